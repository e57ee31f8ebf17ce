package cmd

import (
	"errors"

	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/tenant"
)

// tenantBuilder is `weir create tenant` as a manifest.Builder.
type tenantBuilder struct {
	t           tenant.Tenant
	clusterRole string
}

func (b *tenantBuilder) Objects() ([]client.Object, error) {
	if b.clusterRole != "" {
		b.t.Role = &rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.clusterRole}
	}
	return tenant.Objects(b.t)
}

func newCreateTenantCmd(g *Globals, o *createOptions) *cobra.Command {
	b := &tenantBuilder{}
	cmd := &cobra.Command{
		Use:   "tenant <name> --with-namespace NS [--with-namespace NS…]",
		Short: "Onboard a tenant: its namespaces, a ServiceAccount in each and a RoleBinding to admin there",
		Long: "tenant creates, for each --with-namespace, the Namespace (labelled " + tenant.Label + "=<name>),\n" +
			"a ServiceAccount <name> and a RoleBinding <name> granting it the ClusterRole admin in that\n" +
			"namespace alone: nothing cluster-wide. The tenant's Kustomizations and HelmReleases then\n" +
			"name it in spec.serviceAccountName (with the lockdown component they must). With --export\n" +
			"it prints the objects for the platform team's repository.",
		Example: `  # Team A owns two namespaces
  weir create tenant team-a --with-namespace team-a --with-namespace team-a-staging

  # Printed for the platform repository
  weir create tenant team-a --with-namespace team-a --export > tenants/team-a.yaml`,
		Args: oneName("tenant"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(o.labels) > 0 {
				return errors.New("a tenant's objects carry the label " + tenant.Label + "=<name>; --label is not taken here")
			}
			b.t.Name = args[0]
			return o.run(cmd.Context(), g, b)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&b.t.Namespaces, "with-namespace", nil, "a namespace of the tenant (repeatable, or comma-separated)")
	f.StringVar(&b.t.ServiceAccount, "service-account", "", "the ServiceAccount's name (default: the tenant's name)")
	f.StringVar(&b.clusterRole, "cluster-role", "admin", "the ClusterRole bound in each namespace")
	return cmd
}
