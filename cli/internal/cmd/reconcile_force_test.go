package cmd

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
)

// TestReconcileHelmReleaseForceReset: --force and --reset set helm-controller's forceAt and
// resetAt to the value of the reconcile request they come with (helm-controller honours them
// only then: see its TestForceRequest and TestResetRequest), a plain request leaves them alone,
// and other kinds refuse the flags.
func TestReconcileHelmReleaseForceReset(t *testing.T) {
	ns := env.Namespace(t)
	create(t, helmRelease(ns, "app", "chart", nil))
	create(t, kustomization(ns, "apps", "app", nil, ""))
	fakeController(t, "hr", ns, "app", readyTrue("Helm upgrade succeeded"))

	code, out, errOut := weir(t, "reconcile", "hr", "app", "-n", ns, "--force", "--reset", "--timeout", "30s")
	if code != 0 || !strings.Contains(out, "► requested a reconcile of HelmRelease "+ns+"/app with a forced upgrade and reset failure counters") {
		t.Fatalf("code %d, stderr %q\n%s", code, errOut, out)
	}
	hr := &helmv1.HelmRelease{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, hr); err != nil {
		t.Fatal(err)
	}
	a := hr.GetAnnotations()
	requested := a[meta.ReconcileRequestAnnotation]
	if requested == "" || a[helmv1.ForceRequestAnnotation] != requested || a[helmv1.ResetRequestAnnotation] != requested {
		t.Fatalf("annotations %v: forceAt and resetAt must equal %s", a, meta.ReconcileRequestAnnotation)
	}

	code, _, errOut = weir(t, "reconcile", "helmrelease", "app", "-n", ns, "--force", "--timeout", "30s")
	if code != 0 {
		t.Fatalf("--force alone: code %d, stderr %q", code, errOut)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(hr), hr); err != nil {
		t.Fatal(err)
	}
	a = hr.GetAnnotations()
	if a[helmv1.ForceRequestAnnotation] != a[meta.ReconcileRequestAnnotation] || a[helmv1.ResetRequestAnnotation] == a[meta.ReconcileRequestAnnotation] {
		t.Errorf("after --force alone, annotations %v: only forceAt follows the new request", a)
	}
	force := a[helmv1.ForceRequestAnnotation]

	if code, _, errOut = weir(t, "reconcile", "hr", "app", "-n", ns, "--timeout", "30s"); code != 0 {
		t.Fatalf("plain request: code %d, stderr %q", code, errOut)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(hr), hr); err != nil {
		t.Fatal(err)
	}
	if got := hr.GetAnnotations()[helmv1.ForceRequestAnnotation]; got != force {
		t.Errorf("a plain request changed forceAt from %q to %q", force, got)
	}

	code, _, errOut = weir(t, "reconcile", "ks", "apps", "-n", ns, "--force")
	if code != 1 || !strings.Contains(errOut, "--force and --reset apply to a HelmRelease, not a Kustomization") {
		t.Errorf("--force on a Kustomization: code %d, stderr %q", code, errOut)
	}
}
