package cmd

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

// version is set at build time with -ldflags "-X weir.dev/cli/internal/cmd.version=v1.2.3";
// otherwise the VCS revision the binary was built from is shown.
var version = ""

func newVersionCmd(g *Globals) *cobra.Command {
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print weir's version and the versions of the controllers in the cluster",
		Long: "version prints this weir's version, then the version of each Weir controller installed\n" +
			"in the cluster of your kubeconfig (its version label, else its image's tag), with its\n" +
			"namespace. With --client, or when no cluster answers, only weir's own.",
		Example: "  weir version\n  weir version --client",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(g.Out, "weir", buildVersion())
			if clientOnly {
				return nil
			}
			c, err := g.Client()
			if err != nil {
				fmt.Fprintf(g.Err, "controllers: %v\n", err)
				return nil
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			found, err := installedControllers(ctx, c)
			if err != nil {
				fmt.Fprintf(g.Err, "controllers: %v\n", err)
				return nil
			}
			if len(found) == 0 {
				fmt.Fprintln(g.Out, "controllers: none installed in the cluster (`weir install`)")
			}
			for _, d := range found {
				fmt.Fprintf(g.Out, "%s %s (namespace %s, image %s)\n", d.Name, versionOf(&d), d.Namespace, imageOf(&d))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print only weir's own version")
	return cmd
}

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	switch {
	case rev == "":
		return "(devel)"
	case dirty:
		return rev[:min(12, len(rev))] + "-dirty"
	default:
		return rev[:min(12, len(rev))]
	}
}
