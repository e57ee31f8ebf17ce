package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/install"
	"weir.dev/cli/internal/objects"
)

func init() { register(newCheckCmd) }

// controllers are the Deployments `weir install` creates, in the namespace weirNamespace.
var controllers = install.Controllers

// weirNamespace is the namespace `weir install` puts the controllers in.
const weirNamespace = "weir-system"

func newCheckCmd(g *Globals) *cobra.Command {
	var namespace string
	var pre bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check that Weir is installed and healthy",
		Long: "check verifies that the CRD of every Weir kind is present and Established, with its\n" +
			"versions, and that the four controllers' Deployments are ready. Controllers that are not\n" +
			"deployed in the cluster (e.g. under `weir local up`, which runs them as processes) are\n" +
			"reported, not failed. It exits 1 when something is missing or unhealthy.\n\n" +
			"With --pre it checks only what an install needs: that the cluster's Kubernetes is at\n" +
			"least " + MinKubernetes + ".",
		Example: `  # After weir install
  weir check

  # Controllers deployed in another namespace
  weir check --controllers-namespace gitops

  # Before installing
  weir check --pre`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := kubernetesVersion(g)
			if v == "" {
				return err
			}
			if err != nil {
				fmt.Fprintf(g.Out, "✗ Kubernetes %s (minimum %s)\n", v, MinKubernetes)
				return &ExitError{Code: 1, Err: err}
			}
			fmt.Fprintf(g.Out, "✔ Kubernetes %s (minimum %s)\n", v, MinKubernetes)
			if pre {
				fmt.Fprintln(g.Out, "✔ prerequisites checked")
				return nil
			}
			c, err := g.Client()
			if err != nil {
				return err
			}
			fmt.Fprintln(g.Out, "CRDs:")
			crdsOK, err := checkCRDs(cmd.Context(), c, g.Out)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.Out, "Controllers:")
			ctrlOK, err := checkControllers(cmd.Context(), c, g.Out, namespace)
			if err != nil {
				return err
			}
			if !crdsOK || !ctrlOK {
				return &ExitError{Code: 1, Err: fmt.Errorf("Weir is not healthy: see above")}
			}
			fmt.Fprintln(g.Out, "✔ all checks passed")
			return nil
		},
	}
	cmd.Flags().StringVar(&namespace, "controllers-namespace", weirNamespace, "the namespace of the controllers' Deployments")
	cmd.Flags().BoolVar(&pre, "pre", false, "check only the prerequisites of an install (the Kubernetes version)")
	return cmd
}

// checkCRDs prints the state of the CRD of every Weir kind and reports whether all are Established.
func checkCRDs(ctx context.Context, c client.Client, out io.Writer) (bool, error) {
	ok, missing := true, 0
	for _, k := range objects.Kinds {
		name := k.Plural + "." + k.GroupVersion.Group
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
			if !apierrors.IsNotFound(err) {
				return false, err
			}
			fmt.Fprintf(out, "  ✗ %s: not installed\n", name)
			ok = false
			missing++
			continue
		}
		var served []string
		storage := ""
		for _, v := range crd.Spec.Versions {
			if v.Served {
				served = append(served, v.Name)
			}
			if v.Storage {
				storage = v.Name
			}
		}
		if !established(crd) {
			fmt.Fprintf(out, "  ✗ %s: not Established\n", name)
			ok = false
			continue
		}
		if !slices.Contains(served, k.GroupVersion.Version) {
			fmt.Fprintf(out, "  ✗ %s: does not serve %s (serves %s): upgrade Weir's CRDs with `weir install`\n", name, k.GroupVersion.Version, strings.Join(served, ", "))
			ok = false
			continue
		}
		fmt.Fprintf(out, "  ✔ %s: served %s, stored %s\n", name, strings.Join(served, ", "), storage)
	}
	if missing == len(objects.Kinds) {
		fmt.Fprintf(out, "  %v\n", errNoCRDs)
	}
	return ok, nil
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established {
			return c.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}

// checkControllers prints the state of each controller's Deployment and reports whether every
// one deployed is ready. None deployed is not a failure: they may run outside the cluster.
func checkControllers(ctx context.Context, c client.Client, out io.Writer, namespace string) (bool, error) {
	ok, found := true, 0
	var lines []string
	for _, name := range controllers {
		d := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, d); err != nil {
			if !apierrors.IsNotFound(err) {
				return false, err
			}
			lines = append(lines, fmt.Sprintf("  ✗ %s: no Deployment in %s", name, namespace))
			ok = false
			continue
		}
		found++
		image := ""
		if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 {
			image = cs[0].Image
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		if d.Status.ObservedGeneration < d.Generation || d.Status.ReadyReplicas < want || d.Status.UpdatedReplicas < want {
			lines = append(lines, fmt.Sprintf("  ✗ %s: %d/%d replicas ready (%s)", name, d.Status.ReadyReplicas, want, image))
			ok = false
			continue
		}
		lines = append(lines, fmt.Sprintf("  ✔ %s: %d/%d replicas ready (%s)", name, d.Status.ReadyReplicas, want, image))
	}
	if found == 0 {
		fmt.Fprintf(out, "  – not installed in-cluster: no controller Deployments in %s (fine when they run elsewhere, e.g. `weir local up`; otherwise `weir install`)\n", namespace)
		return true, nil
	}
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	return ok, nil
}
