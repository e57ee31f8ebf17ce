package cmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"weir.dev/cli/internal/migrate"
)

func init() { register(newMigrateCmd) }

func newMigrateCmd(g *Globals) *cobra.Command {
	var input, outDir string
	var inPlace bool
	cmd := &cobra.Command{
		Use:   "migrate -f FILE|DIR [-o DIR | --in-place]",
		Short: "Rewrite Flux manifests into Weir's",
		Long: `Rewrite Flux manifests into Weir's.

The apiVersions of Flux's kinds become Weir's (source.toolkit.fluxcd.io/* becomes
source.weir.dev/v1, and so on for kustomize, helm and notification), Flux's annotation and label
keys become Weir's (reconcile.fluxcd.io/requestedAt becomes reconcile.weir.dev/requestedAt,
kustomize.toolkit.fluxcd.io/ssa becomes kustomize.weir.dev/ssa, ...), and so do the groups of
patch targets. Only those names change: comments, quoting and layout stay as they were.

An Argo CD ApplicationSet with a single Git directory generator becomes a GitRepository and a
ResourceSet (sets.weir.dev) generating one Kustomization per directory, with a canary step.

Anything that does not map is reported on stderr as file:line: kinds Weir does not have (image
automation, Bucket), keys it does not read, fields its kinds lack, Flux names inside strings such
as patches. The exit status is then 1; the mapped part is still written.

Without -o or --in-place the result goes to stdout. With -o DIR the YAML files are written
under DIR with their paths relative to -f.`,
		Example: `  weir migrate -f clusters/prod/apps.yaml
  weir migrate -f clusters/ -o weir-clusters/
  weir migrate -f clusters/ --in-place`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if outDir != "" && inPlace {
				return errors.New("-o and --in-place exclude each other")
			}
			files, err := migrate.Files(input)
			if err != nil {
				return err
			}
			unmapped := 0
			for i, f := range files {
				for _, finding := range f.Findings {
					fmt.Fprintln(g.Err, finding)
					unmapped++
				}
				if err := writeMigrated(g, f, i, len(files), outDir, inPlace); err != nil {
					return err
				}
			}
			if unmapped > 0 {
				return &ExitError{Code: 1, Err: fmt.Errorf("%d item(s) did not map to Weir; see above", unmapped)}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&input, "filename", "f", "", "a Flux manifest file, or a directory of them")
	cmd.Flags().StringVarP(&outDir, "output-dir", "o", "", "write the migrated files under this directory")
	cmd.Flags().BoolVar(&inPlace, "in-place", false, "overwrite the files with their migrated text")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// writeMigrated writes f, the i-th of n files, as --output-dir, --in-place or stdout ask.
func writeMigrated(g *Globals, f *migrate.File, i, n int, outDir string, inPlace bool) error {
	switch {
	case inPlace:
		if !f.Changed() {
			return nil
		}
		return os.WriteFile(f.Path, f.Migrated, f.Mode)
	case outDir != "":
		p := filepath.Join(outDir, f.Rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, f.Migrated, f.Mode)
	}
	if n > 1 {
		if i > 0 {
			fmt.Fprintln(g.Out, "---")
		}
		fmt.Fprintf(g.Out, "# Source: %s\n", filepath.ToSlash(f.Rel))
	}
	_, err := g.Out.Write(f.Migrated)
	return err
}
