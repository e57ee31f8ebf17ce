package controller

import (
	"context"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// tenantLosesRights sets up a tenant Kustomization that applied ConfigMap "a" in its own
// namespace and "far" in another, and then lost its rights in the other namespace, so that
// it may no longer even read "far". It returns the namespaces and the Kustomization.
func tenantLosesRights(t *testing.T, mutate func(*kustomizev1.Kustomization)) (string, string, *kustomizev1.Kustomization) {
	t.Helper()
	ns, other := env.Namespace(t), env.Namespace(t)
	bindings := createTenant(t, ns, other)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/a.yaml": configMapIn(ns, "a", "1"), "app/far.yaml": configMapIn(other, "far", "1"),
	})
	ks := createKustomization(t, ns, "tenant", "./app", func(k *kustomizev1.Kustomization) {
		asTenant(k)
		if mutate != nil {
			mutate(k)
		}
	})
	waitApplied(t, ks, "main@sha1:1")
	waitConfigMap(t, other, "far", "1")
	if err := env.Client.Delete(context.Background(), bindings[other]); err != nil {
		t.Fatal(err)
	}
	return ns, other, ks
}

// TestPruneOfAnObjectNoLongerPermitted: a prune that may not read or delete an object leaves
// it in place, says so in PruneFailed and a Warning event, and stops tracking it, so the next
// run is Ready instead of failing for ever.
func TestPruneOfAnObjectNoLongerPermitted(t *testing.T) {
	ns, other, ks := tenantLosesRights(t, nil)
	far := "ConfigMap/" + other + "/far"
	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/a.yaml": configMapIn(ns, "a", "2")})
	waitEvent(t, ns, "tenant", kustomizev1.PruneFailedReason, "not permitted to delete", far, "forbidden")
	waitApplied(t, ks, "main@sha1:2")
	if got, want := inventoryNames(t, ks), []string{"ConfigMap/" + ns + "/a"}; !slices.Equal(got, want) {
		t.Errorf("inventory %q, want %q", got, want)
	}
	if v := configMapValue(t, other, "far"); v != "1" {
		t.Errorf("ConfigMap far = %q, want it left in place", v)
	}
}

// TestDeletionOfAnObjectNoLongerPermitted: deleting a Kustomization whose inventory holds an
// object its identity may no longer read deletes the rest, shows why it cannot finish in
// PruneFailed and Ready and a Warning event, and releases its finalizer after spec.timeout,
// leaving that object in place.
func TestDeletionOfAnObjectNoLongerPermitted(t *testing.T) {
	ns, other, ks := tenantLosesRights(t, func(k *kustomizev1.Kustomization) {
		k.Spec.DeletionPolicy = kustomizev1.DeletionPolicyDelete
		k.Spec.Timeout = &metav1.Duration{Duration: 5 * time.Second}
	})
	far := "ConfigMap/" + other + "/far"
	if err := env.Client.Delete(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, env.ObjectIn(ks, kustomizev1.PruneFailedCondition, metav1.ConditionTrue, kustomizev1.PruneFailedReason, far))
	for _, want := range []string{"not permitted to delete", "retrying until"} {
		if err := testenv.CheckCondition(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.PruneFailedReason, want); err != nil {
			t.Error(err)
		}
	}
	waitGone(t, ks)
	waitEvent(t, ns, "tenant", kustomizev1.PruneFailedReason, far, "the finalizer is released after spec.timeout (5s)")
	waitConfigMap(t, ns, "a", "<absent>")
	if v := configMapValue(t, other, "far"); v != "1" {
		t.Errorf("ConfigMap far = %q, want it left in place", v)
	}
}
