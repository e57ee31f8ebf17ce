package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

const driftDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
`

const driftSecret = `apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-creds
stringData:
  password: chart-s3cret
`

// installDriftChart installs a release with a Deployment and a Secret (no waiting: no kubelet
// makes the Deployment ready here) and the given drift detection.
func installDriftChart(t *testing.T, dd *helmv1.DriftDetection) (string, *helmv1.HelmRelease) {
	t.Helper()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{files: map[string]string{
		"templates/deployment.yaml": driftDeployment, "templates/secret.yaml": driftSecret,
	}})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.Install = &helmv1.Install{DisableWait: true}
		hr.Spec.Upgrade = &helmv1.Upgrade{DisableWait: true}
		hr.Spec.DriftDetection = dd
	})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	return ns, hr
}

// kubectlEdit changes the Deployment's replicas and the Secret's password the way
// `kubectl edit` does: an Update with its own field manager.
func kubectlEdit(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	var d appsv1.Deployment
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-web"}, &d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Replicas = ptrTo(int32(5))
	if err := env.Client.Update(ctx, &d, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	var s corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-creds"}, &s); err != nil {
		t.Fatal(err)
	}
	s.Data["password"] = []byte("hand-s3cret")
	if err := env.Client.Update(ctx, &s, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
}

// liveState returns the Deployment's replicas and the Secret's password.
func liveState(t *testing.T, ns string) (int32, string) {
	t.Helper()
	var d appsv1.Deployment
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app-web"}, &d); err != nil {
		t.Fatal(err)
	}
	var s corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app-creds"}, &s); err != nil {
		t.Fatal(err)
	}
	return *d.Spec.Replicas, string(s.Data["password"])
}

// driftEvents returns the DriftDetected events about HelmRelease ns/app, checking that none
// leaks a value of the Secret.
func driftEvents(t *testing.T, ns string) []string {
	t.Helper()
	var out []string
	for _, e := range env.Events(t, ns, "app") {
		if strings.Contains(e.Message, "s3cret") {
			t.Fatalf("event %s leaks a Secret value: %s", e.Reason, e.Message)
		}
		if e.Reason == helmv1.DriftDetectedReason {
			out = append(out, e.Message)
		}
	}
	return out
}

// TestDriftCorrected: with drift detection enabled (the default), a kubectl edit of a
// Deployment's replicas and a Secret's data is reverted at the next reconcile, without a new
// Helm revision, and reported once in a warning naming objects, fields and the manager.
func TestDriftCorrected(t *testing.T) {
	t.Parallel()
	ns, hr := installDriftChart(t, nil)
	if hr.GetDriftDetectionMode() != helmv1.DriftDetectionEnabled {
		t.Fatalf("drift detection mode %q by default", hr.GetDriftDetectionMode())
	}
	if inv := hr.Status.Inventory; inv == nil || fmt.Sprint(inv.Entries) != fmt.Sprintf("[{%[1]s_app-cm__ConfigMap v1} {%[1]s_app-creds__Secret v1} {%[1]s_app-web_apps_Deployment v1}]", ns) {
		t.Fatalf("status.inventory %+v", inv)
	}
	// Nothing changed: no drift.
	requestReconcile(t, hr)
	if ev := driftEvents(t, ns); len(ev) != 0 {
		t.Fatalf("drift reported on an untouched release: %v", ev)
	}

	metricsURL := testenv.ServeMetrics(t)
	driftCount := func() float64 {
		s, err := testenv.ScrapeMetrics(metricsURL)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := s.Value("weir_drift_corrections_total", map[string]string{"kind": "Deployment", "manager": "kubectl-edit"})
		return v
	}
	before := driftCount()
	kubectlEdit(t, ns)
	requestReconcile(t, hr)
	testenv.Eventually(t, timeout, func() error {
		if replicas, pw := liveState(t, ns); replicas != 2 || pw != "chart-s3cret" {
			return errorf("replicas %d, password reverted: %v", replicas, pw == "chart-s3cret")
		}
		return nil
	})
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.DriftDetectedReason,
		"corrected drift: Deployment/"+ns+"/app-web .spec.replicas (by kubectl-edit); Secret/"+ns+"/app-creds .data.password (by kubectl-edit)")
	wantRevisions(t, ns, "app", "1:deployed")
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	// Other tests running in parallel may correct drift too: at least this one is counted.
	if after := driftCount(); after < before+1 {
		t.Errorf("weir_drift_corrections_total{kind=Deployment,manager=kubectl-edit} %v after the correction, was %v", after, before)
	}

	// Corrected: the next reconcile finds nothing.
	requestReconcile(t, hr)
	if ev := driftEvents(t, ns); len(ev) != 1 {
		t.Fatalf("want one drift event, got %v", ev)
	}

	// A deleted object is drift too, and is re-created.
	if err := env.Client.Delete(context.Background(), &corev1.Secret{ObjectMeta: objectMeta(ns, "app-creds")}); err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, hr)
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.DriftDetectedReason, "corrected drift: Secret/"+ns+"/app-creds (deleted)")
	if _, pw := liveState(t, ns); pw != "chart-s3cret" {
		t.Fatal("the deleted Secret was not re-created")
	}
}

// TestDriftWarnOnly: in mode warn, drift is reported and left in place.
func TestDriftWarnOnly(t *testing.T) {
	t.Parallel()
	ns, hr := installDriftChart(t, &helmv1.DriftDetection{Mode: helmv1.DriftDetectionWarn})
	kubectlEdit(t, ns)
	requestReconcile(t, hr)
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.DriftDetectedReason,
		"drift detected (not corrected, driftDetection.mode is warn): Deployment/"+ns+"/app-web .spec.replicas (by kubectl-edit); Secret/"+ns+"/app-creds .data.password (by kubectl-edit)")
	if replicas, pw := liveState(t, ns); replicas != 5 || pw != "hand-s3cret" {
		t.Fatalf("warn mode changed the cluster: replicas %d", replicas)
	}
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	driftEvents(t, ns)
}

// TestDriftIgnoreRules: fields an ignore rule selects are neither reported nor corrected;
// the rest is. A disabled mode looks at nothing.
func TestDriftIgnoreRules(t *testing.T) {
	t.Parallel()
	ns, hr := installDriftChart(t, &helmv1.DriftDetection{Mode: helmv1.DriftDetectionEnabled, Ignore: []helmv1.IgnoreRule{
		{Paths: []string{"/spec/replicas"}, Target: &meta.Selector{Kind: "Deployment"}},
		{Paths: []string{"/data/password"}, Target: &meta.Selector{Kind: "ConfigMap"}}, // matches no Secret
	}})
	kubectlEdit(t, ns)
	requestReconcile(t, hr)
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.DriftDetectedReason, "corrected drift: Secret/"+ns+"/app-creds .data.password (by kubectl-edit)")
	if replicas, pw := liveState(t, ns); replicas != 5 || pw != "chart-s3cret" {
		t.Fatalf("replicas %d (want the edit kept), Secret reverted: %v", replicas, pw == "chart-s3cret")
	}
	for _, ev := range driftEvents(t, ns) {
		if strings.Contains(ev, "replicas") {
			t.Fatalf("an ignored field was reported: %s", ev)
		}
	}

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) {
		hr.Spec.DriftDetection = &helmv1.DriftDetection{Mode: helmv1.DriftDetectionDisabled}
	})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	kubectlEdit(t, ns)
	requestReconcile(t, hr)
	if replicas, pw := liveState(t, ns); replicas != 5 || pw != "hand-s3cret" {
		t.Fatal("disabled drift detection changed the cluster")
	}
	if n := len(driftEvents(t, ns)); n != 1 {
		t.Fatalf("%d drift events, want the first one only", n)
	}
}

func objectMeta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name}
}

func TestDescribeReleaseDrift(t *testing.T) {
	obj := func(kind, ns, name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetKind(kind)
		u.SetNamespace(ns)
		u.SetName(name)
		return u
	}
	many := make([]string, maxDriftFields+3)
	for i := range many {
		many[i] = fmt.Sprintf(".data.k%02d", i)
	}
	got := describeReleaseDrift([]driftedObject{
		{desired: obj("Secret", "ns", "s"), fields: map[string][]string{"kubectl-edit": {".data.password"}, "other": {".data.x"}}},
		{desired: obj("ClusterRole", "", "r"), deleted: true},
		{desired: obj("ConfigMap", "ns", "c"), fields: map[string][]string{"m": many}},
	})
	want := "ClusterRole/r (deleted); ConfigMap/ns/c .data.k00, "
	if !strings.HasPrefix(got, want) || !strings.Contains(got, ".data.k19, and 3 more (by m); Secret/ns/s .data.password (by kubectl-edit); Secret/ns/s .data.x (by other)") {
		t.Fatalf("report %q", got)
	}
	var objs []driftedObject
	for i := range maxDriftObjects + 2 {
		objs = append(objs, driftedObject{desired: obj("ConfigMap", "ns", fmt.Sprintf("c%02d", i)), deleted: true})
	}
	if got := describeReleaseDrift(objs); !strings.HasSuffix(got, "; and 2 more objects") {
		t.Fatalf("report of many objects %q", got)
	}
}

func TestWithoutIgnored(t *testing.T) {
	d := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web"}, "spec": map[string]any{"replicas": int64(2), "paused": true}}}
	out, err := withoutIgnored([]*unstructured.Unstructured{d}, []helmv1.IgnoreRule{
		{Paths: []string{"/spec/replicas"}, Target: &meta.Selector{Kind: "Deployment"}},
		{Paths: []string{"/spec/paused"}, Target: &meta.Selector{Kind: "StatefulSet"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if spec := out[0].Object["spec"].(map[string]any); spec["replicas"] != nil || spec["paused"] != true {
		t.Fatalf("spec after the ignore rules: %v", spec)
	}
	if d.Object["spec"].(map[string]any)["replicas"] == nil {
		t.Fatal("withoutIgnored modified the manifest's object")
	}
	if _, err := withoutIgnored([]*unstructured.Unstructured{d}, []helmv1.IgnoreRule{{Paths: []string{"/spec"}, Target: &meta.Selector{Name: "("}}}); err == nil ||
		!strings.Contains(err.Error(), "spec.driftDetection.ignore") {
		t.Fatalf("a bad selector: %v", err)
	}
}
