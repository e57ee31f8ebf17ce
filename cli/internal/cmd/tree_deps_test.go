package cmd

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

// TestTreeDeps: `weir tree --deps` shows the dependency graph across kinds, with each
// dependency's Ready state, the blocking edges marked with why (by the default rule or a
// readyExpr), and cycles named; `weir get` shows which dependency blocks, in which state and
// since when.
func TestTreeDeps(t *testing.T) {
	ns := env.Namespace(t)
	since := time.Date(2026, 12, 6, 13, 2, 1, 0, time.UTC)
	blocked := "dependency HelmRelease '" + ns + "/db' is not ready (Ready=False since 2026-12-06T13:02:01Z): InstallFailed: install failed: image pull"

	apps := kustomization(ns, "apps", "app", ready(metav1.ConditionFalse, meta.DependencyNotReadyReason, blocked), "")
	apps.Spec.DependsOn = []kustomizev1.DependencyReference{{Kind: helmv1.HelmReleaseKind, Name: "db"}, {Name: "infra"}}
	create(t, apps)
	failed := ready(metav1.ConditionFalse, "InstallFailed", "install failed: image pull")
	failed[0].LastTransitionTime = metav1.NewTime(since)
	db := helmRelease(ns, "db", "db", failed)
	db.Spec.DependsOn = []helmv1.DependencyReference{{Kind: kustomizev1.KustomizationKind, Name: "infra"}}
	create(t, db)
	infra := kustomization(ns, "infra", "app", ready(metav1.ConditionTrue, meta.SucceededReason, "applied revision main@sha1:1"), "main@sha1:1")
	infra.Labels = map[string]string{"app/version": "v1"}
	create(t, infra)
	lockstep := kustomization(ns, "lockstep", "app", ready(metav1.ConditionFalse, meta.DependencyNotReadyReason, "waiting"), "")
	lockstep.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "infra", ReadyExpr: "dep.metadata.labels['app/version'] == 'v2'"}}
	create(t, lockstep)
	cycA := kustomization(ns, "cyc-a", "app", nil, "")
	cycA.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "cyc-b"}}
	create(t, cycA)
	cycB := kustomization(ns, "cyc-b", "app", nil, "")
	cycB.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "cyc-a"}}
	create(t, cycB)

	code, out, errOut := weir(t, "tree", "ks", "apps", "--deps", "-n", ns)
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"Kustomization/" + ns + "/apps Ready=False DependencyNotReady\n",
		"├── HelmRelease/" + ns + "/db Ready=False InstallFailed ◀ blocking: InstallFailed: install failed: image pull\n",
		"│   └── Kustomization/" + ns + "/infra Ready=True\n",
		"└── Kustomization/" + ns + "/infra Ready=True\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tree --deps lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = weir(t, "tree", "--deps", "-n", ns)
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"Kustomization/" + ns + "/lockstep Ready=False DependencyNotReady\n└── Kustomization/" + ns + "/infra Ready=True ◀ blocking: readyExpr 'dep.metadata.labels['app/version'] == 'v2'' is false",
		"Kustomization/" + ns + "/cyc-a Ready=Unknown (no Ready condition yet)\n└── Kustomization/" + ns + "/cyc-b",
		"└── Kustomization/" + ns + "/cyc-a Ready=Unknown (no Ready condition yet) ◀ blocking: it has no Ready condition yet (cycle: depends on itself)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tree --deps (namespace) lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "Kustomization/"+ns+"/cyc-a Ready") != 2 || strings.Contains(out, "Kustomization/"+ns+"/cyc-b Ready=Unknown (no Ready condition yet)\n") {
		t.Errorf("the cycle should be shown once, from cyc-a:\n%s", out)
	}

	code, out, errOut = weir(t, "get", "ks", "apps", "-n", ns)
	if code != 0 || !strings.Contains(out, blocked[:120]) {
		t.Errorf("get: code %d, stderr %q; want the blocking dependency, its state and since when:\n%s", code, errOut, out)
	}
}
