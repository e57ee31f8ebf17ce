package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/objects"
)

func TestTraceKustomization(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	create(t, gitRepository(ns, "app", ready(metav1.ConditionTrue, meta.SucceededReason, "stored artifact"), "main@sha1:abc"))
	root := kustomization(ns, "root", "app", ready(metav1.ConditionTrue, meta.SucceededReason, "applied"), "main@sha1:abc")
	create(t, root)
	apps := kustomization(ns, "apps", "app", ready(metav1.ConditionFalse, meta.HealthCheckFailedReason, "web not ready"), "main@sha1:abc")
	apps.Labels = map[string]string{objects.KustomizeNameLabel: "root", objects.KustomizeNamespaceLabel: ns}
	apps.Spec.Path = "./apps"
	create(t, apps)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings",
		Labels: map[string]string{objects.KustomizeNameLabel: "apps", objects.KustomizeNamespaceLabel: ns}}}
	if err := env.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := weir(t, "trace", "configmap/settings", "-n", ns)
	if code != 0 {
		t.Fatalf("code %d, %q", code, errOut)
	}
	for _, want := range []string{
		"Object:         ConfigMap/" + ns + "/settings",
		"Managed by:     Kustomization/" + ns + "/apps",
		"  Ready:        False (HealthCheckFailed: web not ready)",
		"  Path:         ./apps",
		"Source:         GitRepository/" + ns + "/app",
		"  URL:          https://example.com/repo.git",
		"  Revision:     main@sha1:abc",
		"Managed by:     Kustomization/" + ns + "/root",
		"  Ready:        True (Succeeded: applied)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "/apps\n") > strings.Index(out, "/root\n") {
		t.Errorf("the direct manager comes first:\n%s", out)
	}
	// Short names and the <kind> <name> form.
	if code, out, _ := weir(t, "trace", "cm", "settings", "-n", ns); code != 0 || !strings.Contains(out, "Kustomization/"+ns+"/apps") {
		t.Errorf("trace cm settings: code %d\n%s", code, out)
	}
}

func TestTraceHelmRelease(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	repo := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "charts"},
		Spec:       sourcev1.HelmRepositorySpec{URL: "https://charts.example.com", Interval: &metav1.Duration{Duration: time.Minute}},
	}
	repo.Status.Conditions = ready(metav1.ConditionTrue, meta.SucceededReason, "index ok")
	create(t, repo)
	chart := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podinfo"},
		Spec: sourcev1.HelmChartSpec{Chart: "podinfo", Interval: metav1.Duration{Duration: time.Minute},
			SourceRef: sourcev1.HelmChartSourceReference{Kind: "HelmRepository", Name: "charts"}},
	}
	chart.Status.Conditions = ready(metav1.ConditionTrue, meta.SucceededReason, "pulled podinfo 6.5.0")
	create(t, chart)
	hr := helmRelease(ns, "podinfo-release", "podinfo", ready(metav1.ConditionTrue, meta.SucceededReason, "installed"))
	hr.Status.History = helmv1.Snapshots{{Name: "podinfo", Namespace: ns, Version: 1, Status: "deployed", ChartName: "podinfo",
		ChartVersion: "6.5.0", Digest: "sha256:x", ConfigDigest: "sha256:y", FirstDeployed: metav1.Now(), LastDeployed: metav1.Now()}}
	create(t, hr)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podinfo",
			Annotations: map[string]string{objects.HelmReleaseNameAnnotation: "podinfo", objects.HelmReleaseNamespaceAnnotation: ns}},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if err := env.Client.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := weir(t, "trace", "svc/podinfo", "-n", ns)
	if code != 0 {
		t.Fatalf("code %d, %q", code, errOut)
	}
	for _, want := range []string{
		"Managed by:     HelmRelease/" + ns + "/podinfo-release",
		"  Revision:     6.5.0",
		"Source:         HelmChart/" + ns + "/podinfo",
		"Source:         HelmRepository/" + ns + "/charts",
		"  URL:          https://charts.example.com",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTraceErrors(t *testing.T) {
	ns := env.Namespace(t)
	if err := env.Client.Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "loose"}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"trace", "configmap/loose", "-n", ns}, "ConfigMap/" + ns + "/loose is not managed by Weir"},
		{[]string{"trace", "configmap/nope", "-n", ns}, `ConfigMap "nope" not found in namespace "` + ns + `"`},
		{[]string{"trace", "frobs/x", "-n", ns}, `unknown kind "frobs"`},
		{[]string{"trace", "configmap", "-n", ns}, "want <kind>/<name>"},
	}
	for _, tc := range cases {
		if code, _, errOut := weir(t, tc.args...); code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d, %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
}
