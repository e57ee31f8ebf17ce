package cmd

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/cli/internal/preview"
)

// newDiffHelmReleaseCmd is `weir diff helmrelease NAME`: what helm-controller would change in
// the cluster for a HelmRelease, with a pull request's values, spec or chart before it is merged.
func newDiffHelmReleaseCmd(g *Globals) *cobra.Command {
	var (
		file string
		o    preview.HelmOptions
	)
	cmd := &cobra.Command{
		Use:     "helmrelease <name> [--values FILE]... [--chart-path DIR] [--helmrelease-file FILE]",
		Aliases: []string{"hr"},
		Short:   "Diff a HelmRelease's rendered chart against the live cluster",
		Long: `Diff a HelmRelease's rendered chart against the live cluster.

The chart is rendered as helm-controller renders it, as your identity: the chart from the
artifact of its source (spec.chart's HelmChart or spec.chartRef), or from --chart-path (a local
chart directory, e.g. the pull request's); the values of spec.valuesFrom (ConfigMaps and
Secrets read from the cluster) and spec.values, then each --values file merged over them; a
dry-run install checked by the cluster, with spec.postRenderers and spec.commonMetadata applied
(hooks and the chart's crds/ are left out). --helmrelease-file replaces the cluster's spec
(e.g. with the one of a pull request). Each object is then applied in a server-side dry run as
helm-controller (its field manager), and a unified diff of every object that would be created
or changed is printed; objects of the release's current revision the chart no longer renders
are shown as deleted. Secret values are masked on both sides.

Exit status: 0 when nothing would change, 1 when something would, 2 on errors.`,
		Example: `  weir diff helmrelease podinfo -n apps
  weir diff hr podinfo -n apps --values ./clusters/prod/podinfo-values.yaml
  weir diff hr podinfo -n apps --helmrelease-file ./clusters/prod/podinfo.yaml --chart-path ./charts/podinfo`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			hr, c, err := loadHelmRelease(ctx, g, args[0], file)
			if err != nil {
				return &ExitError{Code: diffFailed, Err: err}
			}
			r, err := preview.RenderHelmRelease(ctx, c, g.Kube, hr, o)
			if err != nil {
				return &ExitError{Code: diffFailed, Err: err}
			}
			res, err := preview.DiffHelmRelease(ctx, c, g.Kube, hr, r, g.Out)
			if err != nil {
				return &ExitError{Code: diffFailed, Err: err}
			}
			if res.HasChanges() {
				return &ExitError{Code: diffChanges}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&o.ValuesFiles, "values", nil, "a YAML file of values merged over the HelmRelease's (repeatable; later files win)")
	cmd.Flags().StringVar(&o.ChartPath, "chart-path", "", "a local chart directory rendered instead of the source's chart artifact")
	cmd.Flags().StringVar(&file, "helmrelease-file", "", "a file holding the HelmRelease, whose spec is used instead of the cluster's")
	return cmd
}

// loadHelmRelease reads the HelmRelease name from the cluster, its spec replaced by file's
// when given (a HelmRelease not yet in the cluster is then new: nothing released yet).
func loadHelmRelease(ctx context.Context, g *Globals, name, file string) (*helmv1.HelmRelease, client.Client, error) {
	c, err := g.Client()
	if err != nil {
		return nil, nil, err
	}
	var fromFile *helmv1.HelmRelease
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, err
		}
		fromFile = &helmv1.HelmRelease{}
		if err := yaml.UnmarshalStrict(b, fromFile); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		if gvk := fromFile.GroupVersionKind(); gvk != helmv1.GroupVersion.WithKind(helmv1.HelmReleaseKind) {
			return nil, nil, fmt.Errorf("%s: holds %s, not a %s HelmRelease", file, gvk, helmv1.GroupVersion)
		}
		if fromFile.Name != name {
			return nil, nil, fmt.Errorf("%s holds HelmRelease '%s', not '%s'", file, fromFile.Name, name)
		}
		if fromFile.Namespace == "" {
			fromFile.Namespace = g.Namespace()
		}
	}
	key := client.ObjectKey{Namespace: g.Namespace(), Name: name}
	if fromFile != nil {
		key.Namespace = fromFile.Namespace
	}
	live := &helmv1.HelmRelease{}
	switch err := c.Get(ctx, key, live); {
	case apierrors.IsNotFound(err) && fromFile != nil:
		return fromFile, c, nil
	case apierrors.IsNotFound(err):
		return nil, nil, fmt.Errorf("HelmRelease '%s' not found (list them with `weir get helmreleases -n %s`)", key, key.Namespace)
	case err != nil:
		return nil, nil, fmt.Errorf("reading HelmRelease '%s': %w", key, err)
	}
	if fromFile != nil {
		live.Spec = fromFile.Spec
	}
	return live, c, nil
}
