package controller

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// TestImpersonation: a tenant ServiceAccount that may only manage ConfigMaps in its namespace
// applies its ConfigMaps, but a set that also holds a ClusterRole fails with a clear error
// and applies nothing, because the controller acts as the tenant, not as itself.
func TestImpersonation(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	for _, o := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "configmaps"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant-configmaps"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "configmaps"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tenant", Namespace: ns}}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	clusterRole := "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: " + ns + "-escalate}\nrules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n"
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"ok/cm.yaml":     configMap("allowed", "1"),
		"bad/cm.yaml":    configMap("blocked", "1"),
		"bad/admin.yaml": clusterRole,
	})
	withTenant := func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.ServiceAccountName = "tenant"
	}
	ok := createKustomization(t, ns, "ok", "./ok", withTenant)
	waitApplied(t, ok, "main@sha1:1")
	waitConfigMap(t, ns, "allowed", "1")

	bad := createKustomization(t, ns, "bad", "./bad", withTenant)
	testenv.Eventually(t, timeout, env.ObjectIn(bad, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.ApplyFailedReason, "system:serviceaccount:"+ns+":tenant"))
	if configMapValue(t, ns, "blocked") != "<absent>" {
		t.Error("the tenant's ConfigMap was applied although its set holds a forbidden ClusterRole")
	}
	var cr rbacv1.ClusterRole
	if err := env.Client.Get(ctx, client.ObjectKey{Name: ns + "-escalate"}, &cr); err == nil {
		t.Error("the tenant created a ClusterRole")
	}
}

// TestDeletionWithoutIdentity: when the tenant's ServiceAccount is gone (as when its namespace
// is deleted), deleting the Kustomization leaves the applied objects in place and says so,
// instead of blocking the deletion for ever.
func TestDeletionWithoutIdentity(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}}
	for _, o := range []client.Object{
		sa,
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "configmaps"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant-configmaps"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "configmaps"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tenant", Namespace: ns}}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/cm.yaml": configMap("kept", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.ServiceAccountName = "tenant"
		k.Spec.DeletionPolicy = kustomizev1.DeletionPolicyDelete
	})
	waitApplied(t, ks, "main@sha1:1")

	if err := env.Client.Delete(ctx, sa); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, ks); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ks), ks); err == nil {
			return errString("the Kustomization still exists")
		} else {
			return client.IgnoreNotFound(err)
		}
	})
	if v := configMapValue(t, ns, "kept"); v != "1" {
		t.Errorf("ConfigMap kept = %q, want it left in place", v)
	}
	testenv.Eventually(t, timeout, func() error {
		for _, ev := range env.Events(t, ns, "app") {
			if ev.Reason == kustomizev1.PruneFailedReason && strings.Contains(ev.Message, "ServiceAccount '"+ns+"/tenant' no longer exists") {
				return nil
			}
		}
		return errString("no event says why the applied objects were left in place")
	})
}
