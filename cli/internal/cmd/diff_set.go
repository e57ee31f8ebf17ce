package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/cli/internal/preview"
)

// newDiffSetCmd is `weir diff set NAME`: what a change of a ResourceSet's template or inputs
// would add, change and remove, before it is merged.
func newDiffSetCmd(g *Globals) *cobra.Command {
	var path, file string
	cmd := &cobra.Command{
		Use:     "set <name> [--path DIR] [--set-file FILE]",
		Aliases: []string{"resourceset", "rset"},
		Short:   "Diff the objects a ResourceSet generates from a local tree against the live cluster",
		Long: `Diff the objects a ResourceSet generates from a local tree against the live cluster.

The set's inputs are generated from --path as the root of its source (a checkout of the
GitRepository, e.g. the pull request's), and --set-file replaces the set's spec (e.g. with the
one of a pull request). Each object is applied in a server-side dry run as kustomize-controller,
and a line per object says whether it would be created, changed or is unchanged, with a unified
diff of each change; inputs whose template fails are listed with the template line; objects no
input generates any more are shown as deleted (spec.prune) or left in place. Secret values are
masked. The controller rolls the changes out in the set's steps; this shows all of them.

Exit status: 0 when nothing would change, 1 when something would, 2 on errors or when an input
fails to render.`,
		Example: `  weir diff set team-apps --path . -n weir-system
  weir diff set team-apps --path . --set-file clusters/prod/team-apps.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, c, err := loadSet(cmd.Context(), g, args[0], file)
			if err != nil {
				return &ExitError{Code: diffFailed, Err: err}
			}
			if set.Spec.SourceRef != nil && path == "" {
				return &ExitError{Code: diffFailed, Err: errors.New("the set reads its source: give a checkout of it with --path")}
			}
			res, err := preview.DiffSet(cmd.Context(), c, set, path, g.Out)
			switch {
			case err != nil:
				return &ExitError{Code: diffFailed, Err: err}
			case res.Changes[preview.RenderFailed] > 0:
				return &ExitError{Code: diffFailed, Err: fmt.Errorf("%d inputs fail to render", res.Changes[preview.RenderFailed])}
			case res.HasChanges():
				return &ExitError{Code: diffChanges}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "local checkout of the set's source (its artifact's root)")
	cmd.Flags().StringVar(&file, "set-file", "", "a file holding the ResourceSet, replacing the cluster's spec")
	return cmd
}

// loadSet reads the ResourceSet name from the cluster, its spec replaced by file's when given
// (a set not yet in the cluster is then new: nothing applied yet).
func loadSet(ctx context.Context, g *Globals, name, file string) (*setsv1.ResourceSet, client.Client, error) {
	c, err := g.Client()
	if err != nil {
		return nil, nil, err
	}
	var fromFile *setsv1.ResourceSet
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, err
		}
		fromFile = &setsv1.ResourceSet{}
		if err := yaml.UnmarshalStrict(b, fromFile); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		if fromFile.Name != name {
			return nil, nil, fmt.Errorf("%s holds ResourceSet '%s', not '%s'", file, fromFile.Name, name)
		}
		if fromFile.Namespace == "" {
			fromFile.Namespace = g.Namespace()
		}
	}
	key := client.ObjectKey{Namespace: g.Namespace(), Name: name}
	if fromFile != nil {
		key.Namespace = fromFile.Namespace
	}
	live := &setsv1.ResourceSet{}
	switch err := c.Get(ctx, key, live); {
	case apierrors.IsNotFound(err) && fromFile != nil:
		return fromFile, c, nil
	case apierrors.IsNotFound(err):
		return nil, nil, fmt.Errorf("ResourceSet '%s' not found (list them with `weir get resourcesets -n %s`)", key, key.Namespace)
	case err != nil:
		return nil, nil, fmt.Errorf("reading ResourceSet '%s': %w", key, err)
	}
	if fromFile != nil {
		live.Spec = fromFile.Spec
	}
	return live, c, nil
}
