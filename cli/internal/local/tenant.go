package local

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/tenant"
)

// onboardTenant makes namespace a tenant's under lockdown, as `weir create tenant` does, except
// for two things: the account is the namespace's default ServiceAccount (which the local
// control plane has no controller to create), and the role is a Role granting everything in
// namespace instead of the ClusterRole admin, whose rules kube-controller-manager's
// aggregation fills in and the local control plane may run without it. A platform team would
// grant less; this is the demo's tenant.
func onboardTenant(ctx context.Context, c client.Client, namespace string) error {
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "tenant-admin"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}},
	}
	objs, err := tenant.Objects(tenant.Tenant{
		Name: "tenant-admin", Namespaces: []string{namespace}, ServiceAccount: "default",
		Role: &rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
	})
	if err != nil {
		return err
	}
	for _, o := range append([]client.Object{role}, objs...) {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("onboarding %s as a tenant: %w", namespace, err)
		}
	}
	return nil
}
