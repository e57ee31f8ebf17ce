package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/install"
	"weir.dev/cli/internal/objects"
)

func init() { register(newInstallCmd) }

// installOwner is the field manager of what `weir install` applies.
const installOwner = "weir"

func newInstallCmd(g *Globals) *cobra.Command {
	var export bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install or upgrade Weir in the cluster",
		Long: "install applies Weir's manifests (deploy/ of the weir this binary was built from: the CRDs,\n" +
			"the namespace weir-system, the four controllers and their RBAC) with server-side apply,\n" +
			"CRDs first. With --export it prints them instead, e.g. to commit them to a repository.",
		Example: `  # Install, then check
  weir install && weir check

  # Print the manifests
  weir install --export > weir.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if export {
				_, err := g.Out.Write(install.Manifests)
				return err
			}
			objs, err := install.Objects()
			if err != nil {
				return err
			}
			c, err := g.Client()
			if err != nil {
				return err
			}
			return applyInstall(cmd.Context(), g, c, objs, timeout)
		},
	}
	cmd.Flags().BoolVar(&export, "export", false, "print the manifests instead of applying them")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for the CRDs to be Established")
	return cmd
}

// applyInstall applies the CRDs, waits until they are Established, then applies the rest.
func applyInstall(ctx context.Context, g *Globals, c client.Client, objs []*unstructured.Unstructured, timeout time.Duration) error {
	var crds, rest []*unstructured.Unstructured
	for _, u := range objs {
		if install.IsCRD(u) {
			crds = append(crds, u)
		} else {
			rest = append(rest, u)
		}
	}
	apply := func(u *unstructured.Unstructured) error {
		err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(installOwner), client.ForceOwnership)
		if err != nil {
			return fmt.Errorf("applying %s: %w", objects.Ref(u), err)
		}
		return nil
	}
	for _, u := range crds {
		if err := apply(u); err != nil {
			return err
		}
	}
	fmt.Fprintf(g.Out, "✔ applied %d CRDs\n", len(crds))
	deadline := time.Now().Add(timeout)
	for _, u := range crds {
		for {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := c.Get(ctx, client.ObjectKey{Name: u.GetName()}, crd); err != nil {
				return err
			}
			if established(crd) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s is not Established after %s", u.GetName(), timeout)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	fmt.Fprintln(g.Out, "✔ CRDs Established")
	for _, u := range rest {
		if err := apply(u); err != nil {
			return err
		}
	}
	fmt.Fprintf(g.Out, "✔ applied %d objects\n", len(rest))
	fmt.Fprintln(g.Out, "◎ the controllers are starting: see `weir check`")
	return nil
}
