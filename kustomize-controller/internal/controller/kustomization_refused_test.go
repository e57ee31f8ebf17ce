package controller

import (
	"context"
	"slices"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// TestRefusedAppliesLeaveTheInventoryAlone: a tenant allowed only ConfigMaps in its namespace
// commits a ClusterRole, then a ConfigMap in another namespace; both are refused and nothing
// is applied, and the inventory keeps only what was applied before. The next good commit
// applies and prunes, and the Kustomization is Ready; deleting it then deletes what it applied
// and completes.
func TestRefusedAppliesLeaveTheInventoryAlone(t *testing.T) {
	ns, other := env.Namespace(t), env.Namespace(t)
	createTenant(t, ns)
	user := "system:serviceaccount:" + ns + ":tenant"
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/a.yaml": configMapIn(ns, "a", "1")})
	ks := createKustomization(t, ns, "tenant", "./app", asTenant)
	waitApplied(t, ks, "main@sha1:1")
	before := []string{"ConfigMap/" + ns + "/a"}
	if got := inventoryNames(t, ks); !slices.Equal(got, before) {
		t.Fatalf("inventory %q, want %q", got, before)
	}

	clusterRole := "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: " + ns + "-admin}\nrules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n"
	for _, step := range []struct {
		revision string
		files    map[string]string
	}{
		{"main@sha1:2", map[string]string{"app/a.yaml": configMapIn(ns, "a", "2"), "app/admin.yaml": clusterRole}},
		{"main@sha1:3", map[string]string{"app/a.yaml": configMapIn(ns, "a", "3"), "app/far.yaml": configMapIn(other, "far", "3")}},
	} {
		publish(t, ns, "repo", step.revision, step.files)
		testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.ApplyFailedReason, "revision "+step.revision))
		if err := testenv.CheckCondition(ks, meta.ReadyCondition, metav1.ConditionFalse, "", user); err != nil {
			t.Error(err)
		}
		if got := inventoryNames(t, ks); !slices.Equal(got, before) {
			t.Fatalf("after the refused %s the inventory is %q, want %q", step.revision, got, before)
		}
	}
	if v := configMapValue(t, ns, "a"); v != "1" {
		t.Errorf("ConfigMap a = %q: a refused revision was partly applied", v)
	}
	if v := configMapValue(t, other, "far"); v != "<absent>" {
		t.Errorf("the tenant created a ConfigMap in another namespace (%q)", v)
	}
	var cr rbacv1.ClusterRole
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: ns + "-admin"}, &cr); err == nil {
		t.Error("the tenant created a ClusterRole")
	}

	publish(t, ns, "repo", "main@sha1:4", map[string]string{"app/b.yaml": configMapIn(ns, "b", "4")})
	waitApplied(t, ks, "main@sha1:4")
	waitConfigMap(t, ns, "b", "4")
	waitConfigMap(t, ns, "a", "<absent>")
	if got, want := inventoryNames(t, ks), []string{"ConfigMap/" + ns + "/b"}; !slices.Equal(got, want) {
		t.Errorf("inventory %q, want %q", got, want)
	}
	if err := testenv.CheckCondition(ks, kustomizev1.PruneFailedCondition, metav1.ConditionTrue, "", ""); err == nil {
		t.Error("PruneFailed after a good commit")
	}
	// Still Ready a moment later: no failing prune comes back on a retry.
	time.Sleep(2 * time.Second)
	if err := env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionTrue, "", "main@sha1:4")(); err != nil {
		t.Error(err)
	}

	if err := env.Client.Delete(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	waitGone(t, ks)
	waitConfigMap(t, ns, "b", "<absent>")
	for _, ev := range env.Events(t, ns, "tenant") {
		if ev.Reason == kustomizev1.PruneFailedReason {
			t.Errorf("deleting the Kustomization failed to delete something: %s", ev.Message)
		}
	}
}
