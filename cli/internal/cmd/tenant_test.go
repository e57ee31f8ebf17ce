package cmd

import (
	"context"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/tenant"
	"weir.dev/pkg/testenv"
)

// aggregateAdmin does what kube-controller-manager's ClusterRole aggregation does for `admin`
// (this control plane runs none): view, then edit, then admin get the rules of every
// ClusterRole their aggregationRule selects (edit selects aggregate-to-edit roles and view;
// admin selects edit and the aggregate-to-admin roles).
func aggregateAdmin(ctx context.Context, t *testing.T) {
	t.Helper()
	for _, name := range []string{"view", "edit", "admin"} {
		role := &rbacv1.ClusterRole{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, role); err != nil {
			t.Fatal(err)
		}
		if role.AggregationRule == nil {
			t.Fatalf("the ClusterRole %s has no aggregationRule", name)
		}
		var rules []rbacv1.PolicyRule
		for _, sel := range role.AggregationRule.ClusterRoleSelectors {
			var roles rbacv1.ClusterRoleList
			if err := env.Client.List(ctx, &roles, client.MatchingLabels(sel.MatchLabels)); err != nil {
				t.Fatal(err)
			}
			for _, r := range roles.Items {
				if r.Name != name {
					rules = append(rules, r.Rules...)
				}
			}
		}
		role.Rules = rules
		if err := env.Client.Update(ctx, role); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCreateTenant exports a tenant (only its Namespaces are cluster-scoped), applies it, and
// checks that its ServiceAccount may create a ConfigMap in its namespaces and nothing in
// another namespace or cluster-wide.
func TestCreateTenant(t *testing.T) {
	ctx := context.Background()
	other := env.Namespace(t)
	nsA, nsB := other+"-a", other+"-b"
	t.Cleanup(func() {
		for _, ns := range []string{nsA, nsB} {
			_ = env.Client.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		}
	})

	code, out, errOut := weir(t, "create", "tenant", "team-a", "--with-namespace", nsA, "--with-namespace", nsB, "--export")
	if code != 0 {
		t.Fatalf("export: code %d, %q", code, errOut)
	}
	objs := decodeYAML(t, out)
	if len(objs) != 6 {
		t.Fatalf("%d objects, want a Namespace, a ServiceAccount and a RoleBinding for each namespace:\n%s", len(objs), out)
	}
	for _, u := range objs {
		switch u.GetKind() {
		case "Namespace":
			if u.GetLabels()[tenant.Label] != "team-a" {
				t.Errorf("%s is not labelled for the tenant", u.GetName())
			}
		case "ServiceAccount", "RoleBinding":
			if u.GetNamespace() != nsA && u.GetNamespace() != nsB {
				t.Errorf("%s/%s is not in the tenant's namespaces", u.GetKind(), u.GetName())
			}
		default:
			t.Errorf("the tenant has a %s", u.GetKind())
		}
	}

	code, out, errOut = weir(t, "create", "tenant", "team-a", "--with-namespace", nsA+","+nsB)
	if code != 0 {
		t.Fatalf("create: code %d, %q\n%s", code, errOut, out)
	}
	rb := &rbacv1.RoleBinding{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: nsB, Name: "team-a"}, rb); err != nil || rb.RoleRef.Name != "admin" || rb.RoleRef.Kind != "ClusterRole" {
		t.Fatalf("RoleBinding: %v %+v", err, rb.RoleRef)
	}
	aggregateAdmin(ctx, t)

	user := "system:serviceaccount:" + nsA + ":team-a"
	can := func(verb, group, resource, namespace string) bool {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + nsA, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Namespace: namespace},
		}}
		if err := env.Client.Create(ctx, sar); err != nil {
			t.Fatal(err)
		}
		return sar.Status.Allowed
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if !can("create", "", "configmaps", nsA) {
			return errorf("%s may not create ConfigMaps in %s", user, nsA)
		}
		return nil
	})
	for _, c := range []struct {
		verb, group, resource, namespace string
		want                             bool
	}{
		{"create", "", "configmaps", nsA, true},
		{"create", "apps", "deployments", nsA, true},
		{"create", "", "configmaps", other, false},
		{"create", "", "configmaps", nsB, false}, // nsB's RoleBinding names nsB's ServiceAccount
		{"create", "rbac.authorization.k8s.io", "clusterroles", "", false},
		{"create", "", "namespaces", "", false},
		{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", false},
	} {
		if got := can(c.verb, c.group, c.resource, c.namespace); got != c.want {
			t.Errorf("%s may %s %s in %q: %v, want %v", user, c.verb, c.resource, c.namespace, got, c.want)
		}
	}
}
