package controller

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/kube"
	helmrelease "helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/helm/postrender"
)

// A release made by Flux's helm-controller, simulated with the Helm SDK as Flux uses it: the
// records are Secrets sh.helm.release.v1.<name>.v<N> in the HelmRelease's namespace with only
// Helm's own labels (name, owner, status, version), and a post-renderer labels every object
// helm.toolkit.fluxcd.io/name and /namespace (metadata.labels only, not selectors or pod
// templates).

const fluxWebTemplate = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels: {app: {{ .Release.Name }}-web}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-web}
    spec:
      containers:
      - name: web
        image: {{ .Values.image | quote }}
`

// fluxChart is the chart of the adoption tests: the default ConfigMap and a Deployment.
var fluxChart = testChart{name: "demo", version: "1.2.0", files: map[string]string{"templates/web.yaml": fluxWebTemplate}}

// fluxRelease installs (first call) or upgrades release name in ns with c and values, the way
// Flux's helm-controller does, and returns the new revision.
func fluxRelease(t *testing.T, ns, name string, c testChart, values map[string]any) *helmrelease.Release {
	t.Helper()
	ch, err := loader.LoadArchive(bytes.NewReader(packageChart(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	getter, err := (&release.Getters{}).For(env.Config, ns)
	if err != nil {
		t.Fatal(err)
	}
	kc := kube.New(getter)
	kc.Namespace = ns
	cfg := &action.Configuration{RESTClientGetter: getter, KubeClient: kc, Releases: helmStorage(t, ns), Log: t.Logf}
	origin := &postrender.Kustomize{Labels: map[string]string{"helm.toolkit.fluxcd.io/name": name, "helm.toolkit.fluxcd.io/namespace": ns}}
	var rel *helmrelease.Release
	if _, err := cfg.Releases.Last(name); err != nil {
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace, in.PostRenderer, in.SkipCRDs = name, ns, origin, true
		rel, err = in.RunWithContext(context.Background(), ch, values)
		if err != nil {
			t.Fatalf("installing %s/%s as Flux does: %v", ns, name, err)
		}
	} else {
		up := action.NewUpgrade(cfg)
		up.Namespace, up.PostRenderer, up.ResetValues = ns, origin, true
		rel, err = up.RunWithContext(context.Background(), name, ch, values)
		if err != nil {
			t.Fatalf("upgrading %s/%s as Flux does: %v", ns, name, err)
		}
	}
	for k := range recordLabels(t, ns, name, rel.Version) {
		switch k {
		case "name", "owner", "status", "version", "createdAt", "modifiedAt":
		default:
			t.Fatalf("the simulated Flux record carries label %s", k)
		}
	}
	return rel
}

// liveObjects are the release's objects as the cluster holds them.
type liveObjects struct {
	cm  corev1.ConfigMap
	web appsv1.Deployment
}

func getLive(t *testing.T, ns, name string) liveObjects {
	t.Helper()
	var l liveObjects
	ctx := context.Background()
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-cm"}, &l.cm); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-web"}, &l.web); err != nil {
		t.Fatal(err)
	}
	return l
}

// sameObjects fails unless now's objects are before's, never deleted nor re-created, and the
// Deployment was not rolled: same UIDs, same generation and pod template.
func sameObjects(t *testing.T, before, now liveObjects) {
	t.Helper()
	for _, p := range []struct {
		what      string
		was, is   types.UID
		gen, gen2 int64
	}{
		{"ConfigMap", before.cm.UID, now.cm.UID, 0, 0},
		{"Deployment", before.web.UID, now.web.UID, before.web.Generation, now.web.Generation},
	} {
		if p.was != p.is {
			t.Errorf("%s was re-created: UID %s, was %s", p.what, p.is, p.was)
		}
		if p.gen != p.gen2 {
			t.Errorf("%s generation %d, was %d: its spec changed", p.what, p.gen2, p.gen)
		}
	}
	if !equality.Semantic.DeepEqual(before.web.Spec.Template, now.web.Spec.Template) {
		t.Errorf("the Deployment's pod template changed (a rollout):\nwas %+v\nis  %+v", before.web.Spec.Template, now.web.Spec.Template)
	}
}

// recordLabels returns the labels of Helm's record of revision version of name in ns.
func recordLabels(t *testing.T, ns, name string, version int) map[string]string {
	t.Helper()
	var s corev1.Secret
	key := client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, version)}
	if err := env.Client.Get(context.Background(), key, &s); err != nil {
		t.Fatal(err)
	}
	return s.Labels
}

// TestAdoptFluxRelease: a HelmRelease migrated from Flux (same chart and version, same values
// written in another order, same release name and storage namespace) adopts the release Flux
// made: no new revision, no object re-created, no rollout; the record is labelled as the
// HelmRelease's, so another HelmRelease cannot take it too; status lists the history and the
// objects. Later changes of the values upgrade it, once each.
func TestAdoptFluxRelease(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	values := map[string]any{"replicaCount": 2, "image": "registry.invalid/web:1.0", "greeting": "hi"}
	fluxRelease(t, ns, "podinfo", fluxChart, values)
	values["greeting"] = "hello"
	fluxRelease(t, ns, "podinfo", fluxChart, values)
	wantRevisions(t, ns, "podinfo", "1:superseded", "2:deployed")
	before := getLive(t, ns, "podinfo")
	if before.web.Labels["helm.toolkit.fluxcd.io/name"] != "podinfo" || before.web.Spec.Template.Labels["helm.toolkit.fluxcd.io/name"] != "" {
		t.Fatalf("Flux's origin labels: object %v, pod template %v", before.web.Labels, before.web.Spec.Template.Labels)
	}

	publishChart(t, ns, "chart", fluxChart)
	hr := createHelmRelease(t, ns, "podinfo", func(hr *helmv1.HelmRelease) {
		hr.Spec.Values = jsonValues(`{"greeting": "hello", "image": "registry.invalid/web:1.0", "replicaCount": 2}`)
		hr.Spec.Upgrade = &helmv1.Upgrade{DisableWait: true} // no kubelet: the Deployment never becomes ready
	})
	waitReleased(t, hr, helmv1.AdoptedReason, "1.2.0")
	wantRevisions(t, ns, "podinfo", "1:superseded", "2:deployed")
	adopted := getLive(t, ns, "podinfo")
	sameObjects(t, before, adopted)
	if adopted.web.ResourceVersion != before.web.ResourceVersion || adopted.cm.ResourceVersion != before.cm.ResourceVersion {
		t.Errorf("the adoption wrote to the release's objects (drift correction?)")
	}
	if err := hasEvent(t, ns, "podinfo", corev1.EventTypeWarning, helmv1.DriftDetectedReason, ""); err == nil {
		t.Errorf("the adopted release's objects were reported drifted")
	}
	if l := recordLabels(t, ns, "podinfo", 2); l[helmv1.OwnerNameLabel] != "podinfo" || l[helmv1.OwnerNamespaceLabel] != ns ||
		l["status"] != "deployed" || l["owner"] != "helm" {
		t.Errorf("labels of the adopted record: %v", l)
	}
	st := hr.Status
	if len(st.History) != 2 || st.History[0].Version != 2 || st.History[0].Status != "deployed" || st.History[0].ChartVersion != "1.2.0" {
		t.Errorf("history after the adoption: %+v", st.History)
	}
	wantInv := fmt.Sprintf("[{%[1]s_podinfo-cm__ConfigMap v1} {%[1]s_podinfo-web_apps_Deployment v1}]", ns)
	if st.Inventory == nil || fmt.Sprint(st.Inventory.Entries) != wantInv {
		t.Errorf("inventory %+v, want %s", st.Inventory, wantInv)
	}
	waitEvent(t, ns, "podinfo", corev1.EventTypeNormal, helmv1.AdoptedReason, "Helm release "+ns+"/podinfo.v2 with chart demo@1.2.0 adopted")

	// Adopted once: later reconciles find it in sync and leave it alone.
	requestReconcile(t, hr)
	wantRevisions(t, ns, "podinfo", "1:superseded", "2:deployed")
	sameObjects(t, before, getLive(t, ns, "podinfo"))

	// The adopted record is this HelmRelease's: another one naming the same release is refused.
	other := createHelmRelease(t, ns, "intruder", func(hr *helmv1.HelmRelease) { hr.Spec.ReleaseName = "podinfo" })
	waitNotReady(t, other, helmv1.ReleaseNotOwnedReason, "belongs to another owner (helm.weir.dev/name=podinfo", true)
	wantRevisions(t, ns, "podinfo", "1:superseded", "2:deployed")

	// New values: exactly one upgrade, in place. Helm's merge drops Flux's origin labels, which
	// the new manifest no longer has.
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) {
		hr.Spec.Values = jsonValues(`{"greeting": "bonjour", "image": "registry.invalid/web:1.0", "replicaCount": 2}`)
	})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.2.0")
	waitRendered(t, ns, "podinfo", "greeting", `"bonjour"`)
	wantRevisions(t, ns, "podinfo", "1:superseded", "2:superseded", "3:deployed")
	after := getLive(t, ns, "podinfo")
	sameObjects(t, before, after)
	if _, ok := after.web.Labels["helm.toolkit.fluxcd.io/name"]; ok {
		t.Errorf("Flux's origin label is still on the Deployment after Weir's upgrade: %v", after.web.Labels)
	}
}

// TestAdoptFluxReleaseOtherValues: a migrated HelmRelease whose values differ from those Flux
// released upgrades the release exactly once, in place.
func TestAdoptFluxReleaseOtherValues(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	fluxRelease(t, ns, "podinfo", fluxChart, map[string]any{"replicaCount": 2, "image": "registry.invalid/web:1.0"})
	before := getLive(t, ns, "podinfo")

	publishChart(t, ns, "chart", fluxChart)
	hr := createHelmRelease(t, ns, "podinfo", func(hr *helmv1.HelmRelease) {
		hr.Spec.Values = jsonValues(`{"replicaCount": 3, "image": "registry.invalid/web:1.0"}`)
		hr.Spec.Upgrade = &helmv1.Upgrade{DisableWait: true}
	})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.2.0")
	wantRevisions(t, ns, "podinfo", "1:superseded", "2:deployed")
	requestReconcile(t, hr)
	wantRevisions(t, ns, "podinfo", "1:superseded", "2:deployed")
	after := getLive(t, ns, "podinfo")
	if after.web.UID != before.web.UID || after.cm.UID != before.cm.UID {
		t.Errorf("objects re-created by the upgrade")
	}
	if *after.web.Spec.Replicas != 3 || !equality.Semantic.DeepEqual(before.web.Spec.Template, after.web.Spec.Template) {
		t.Errorf("after the upgrade: replicas %d, pod template changed %v", *after.web.Spec.Replicas,
			!equality.Semantic.DeepEqual(before.web.Spec.Template, after.web.Spec.Template))
	}
	if l := recordLabels(t, ns, "podinfo", 2); l[helmv1.OwnerNameLabel] != "podinfo" {
		t.Errorf("labels of the upgraded record: %v", l)
	}
}
