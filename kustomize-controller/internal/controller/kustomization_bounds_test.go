package controller

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// configMaps is one file of n ConfigMaps named cm-<i> in ns.
func configMaps(ns string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: %s}\ndata: {a: b}\n", i, ns)
	}
	return b.String()
}

// TestTooManyObjectsRefusedBeforeApply: a commit of one file of 12,000 ConfigMaps (about 1 MB)
// is refused within seconds with the default --max-objects-per-unit, before anything is
// applied: Ready=False and Stalled with TooManyObjects, the inventory and the cluster as the
// previous revision left them.
func TestTooManyObjectsRefusedBeforeApply(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/a.yaml": configMapIn(ns, "a", "1")})
	ks := createKustomization(t, ns, "big", "./app", nil)
	waitApplied(t, ks, "main@sha1:1")

	start := time.Now()
	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/a.yaml": configMapIn(ns, "a", "2"), "app/many.yaml": configMaps(ns, 12_000)})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.TooManyObjectsReason,
		"revision main@sha1:2: app/many.yaml: the build reads more than 10000 objects, twice the 5000 allowed per Kustomization (kustomize-controller --max-objects-per-unit)"))
	t.Logf("refused %s after the commit", time.Since(start))
	if err := testenv.CheckCondition(ks, meta.StalledCondition, metav1.ConditionTrue, kustomizev1.TooManyObjectsReason, ""); err != nil {
		t.Error(err)
	}
	if got, want := inventoryNames(t, ks), []string{"ConfigMap/" + ns + "/a"}; !slices.Equal(got, want) {
		t.Errorf("inventory %q, want %q", got, want)
	}
	if v := configMapValue(t, ns, "a"); v != "1" {
		t.Errorf("ConfigMap a = %q: the refused revision was applied", v)
	}
	if v := configMapValue(t, ns, "cm-0"); v != "<absent>" {
		t.Errorf("ConfigMap cm-0 of the refused revision exists")
	}
}

// TestSlowBuildCutOffWithoutBlockingOthers: a commit whose build would take minutes (a
// strategic merge of two 6,000-item lists) fails with BuildTimeout at its spec.timeout of 2s,
// and another tenant's Kustomization, committed meanwhile, is applied within seconds.
func TestSlowBuildCutOffWithoutBlockingOthers(t *testing.T) {
	slowNS, fastNS := env.Namespace(t), env.Namespace(t)
	var env1, env2 strings.Builder
	for i := range 6000 {
		fmt.Fprintf(&env1, "        - {name: E%d, value: v}\n", i)
		fmt.Fprintf(&env2, "        - {name: E%d, value: w}\n", i)
	}
	head := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n"
	publish(t, slowNS, "repo", "main@sha1:slow", map[string]string{
		"app/deploy.yaml":        head + "        image: nginx\n        env:\n" + env1.String(),
		"app/patch.yaml":         head + "        env:\n" + env2.String(),
		"app/kustomization.yaml": "resources: [deploy.yaml]\npatches: [{path: patch.yaml}]\n",
	})
	slow := createKustomization(t, slowNS, "slow", "./app", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second}
	})
	time.Sleep(time.Second) // the slow build is running
	start := time.Now()
	publish(t, fastNS, "repo", "main@sha1:fast", map[string]string{"app/a.yaml": configMapIn(fastNS, "a", "1")})
	fast := createKustomization(t, fastNS, "fast", "./app", nil)
	waitApplied(t, fast, "main@sha1:fast")
	t.Logf("another tenant's Kustomization applied %s after its commit", time.Since(start))
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("another tenant's build waited %s", took)
	}
	// The first attempt's message is "the build did not finish within spec.timeout (2s)", the
	// next ones' that it is still running.
	testenv.Eventually(t, timeout, env.ObjectIn(slow, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.BuildTimeoutReason, "revision main@sha1:slow: the "))
}
