package cmd

import (
	"github.com/spf13/cobra"

	"weir.dev/cli/internal/preview"
)

func init() { register(newDiffCmd) }

// Exit codes of `weir diff`.
const (
	diffNoChanges = 0
	diffChanges   = 1
	diffFailed    = 2
)

func newDiffCmd(g *Globals) *cobra.Command {
	diff := &cobra.Command{
		Use:   "diff",
		Short: "Show what applying local files would change in the cluster",
	}
	var f buildFlags
	ks := &cobra.Command{
		Use:     "kustomization <name> --path DIR",
		Aliases: []string{"ks"},
		Short:   "Diff a Kustomization built from a local directory against the live cluster",
		Long: `Diff a Kustomization built from a local directory against the live cluster.

The build is exactly 'weir build kustomization' (--kustomization-file replaces the cluster's
spec, e.g. with the one of a pull request). Each object is then applied in a server-side
dry run as kustomize-controller (its field manager, ownership labels and apply policies), and
a unified diff of every object that would be created, changed or pruned is printed. Secret
values are masked on both sides.

Exit status: 0 when nothing would change, 1 when something would, 2 on errors.`,
		Example: `  weir diff kustomization apps --path ./clusters/prod/apps -n weir-system
  weir diff ks apps --path ./apps --kustomization-file ./clusters/prod/apps.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, c, err := f.load(cmd.Context(), g, args[0])
			if err != nil {
				return &ExitError{Code: diffFailed, Err: err}
			}
			objects, origins, err := preview.Build(cmd.Context(), c, ks, f.path, f.allowRemoteBases)
			if err != nil {
				return &ExitError{Code: diffFailed, Err: err}
			}
			res, err := preview.Diff(cmd.Context(), c, ks, objects, origins, g.Out)
			if err != nil {
				return &ExitError{Code: diffFailed, Err: err}
			}
			if res.HasChanges() {
				return &ExitError{Code: diffChanges}
			}
			return nil
		},
	}
	f.addFlags(ks, false)
	diff.AddCommand(ks, newDiffSetCmd(g), newDiffHelmReleaseCmd(g))
	return diff
}
