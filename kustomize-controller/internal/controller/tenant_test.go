package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/testenv"
)

// createTenant creates the ServiceAccount "tenant" in ns and lets it manage ConfigMaps in ns
// and in each of also: nothing else, anywhere. It returns the RoleBindings, by namespace.
func createTenant(t testing.TB, ns string, also ...string) map[string]*rbacv1.RoleBinding {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}}); err != nil {
		t.Fatal(err)
	}
	bindings := map[string]*rbacv1.RoleBinding{}
	for _, in := range append([]string{ns}, also...) {
		binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: in, Name: "tenant-configmaps"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "configmaps"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tenant", Namespace: ns}}}
		for _, o := range []client.Object{
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: in, Name: "configmaps"},
				Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}}},
			binding,
		} {
			if err := env.Client.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		bindings[in] = binding
	}
	return bindings
}

// asTenant makes a Kustomization apply as the ServiceAccount createTenant made.
func asTenant(k *kustomizev1.Kustomization) { k.Spec.ServiceAccountName = "tenant" }

// configMapIn is a ConfigMap manifest with its namespace.
func configMapIn(ns, name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: %q\n", name, ns, value)
}

// inventoryNames lists the inventory as Kind/namespace/name (Kind/name when cluster-scoped).
func inventoryNames(t testing.TB, ks *kustomizev1.Kustomization) []string {
	t.Helper()
	if ks.Status.Inventory == nil {
		return nil
	}
	var out []string
	for _, e := range ks.Status.Inventory.Entries {
		parts := strings.Split(e.ID, "_") // namespace_name_group_kind
		if len(parts) != 4 {
			t.Fatalf("inventory entry %q", e.ID)
		}
		if parts[0] == "" {
			out = append(out, parts[3]+"/"+parts[1])
		} else {
			out = append(out, parts[3]+"/"+parts[0]+"/"+parts[1])
		}
	}
	slices.Sort(out)
	return out
}

// waitGone waits until ks no longer exists.
func waitGone(t testing.TB, ks *kustomizev1.Kustomization) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks)
		if err == nil {
			return fmt.Errorf("the Kustomization still exists: %v", ks.Status.Conditions)
		}
		return client.IgnoreNotFound(err)
	})
}

// waitEvent waits for a Warning event about the object ns/name with reason whose message
// contains every one of parts, and returns its message.
func waitEvent(t testing.TB, ns, name, reason string, parts ...string) string {
	t.Helper()
	var found string
	testenv.Eventually(t, timeout, func() error {
		var seen []string
		for _, ev := range env.Events(t, ns, name) {
			if ev.Type != corev1.EventTypeWarning || ev.Reason != reason {
				continue
			}
			seen = append(seen, ev.Message)
			if containsAll(ev.Message, parts) {
				found = ev.Message
				return nil
			}
		}
		return fmt.Errorf("no %s Warning event containing %q; saw %q", reason, parts, seen)
	})
	return found
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
