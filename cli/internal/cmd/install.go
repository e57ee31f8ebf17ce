package cmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"weir.dev/cli/internal/install"
	"weir.dev/deploy"
)

func init() { register(newInstallCmd) }

// installOwner is the field manager of what `weir install` applies.
const installOwner = "weir"

func newInstallCmd(g *Globals) *cobra.Command {
	var (
		o       install.Options
		export  bool
		wait    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install or upgrade Weir in the cluster",
		Long: "install applies Weir's manifests (deploy/ of the weir this binary was built from: the CRDs,\n" +
			"the namespace, the four controllers and their RBAC) with server-side apply, CRDs first,\n" +
			"removes what an earlier install applied that this one no longer has (e.g. the\n" +
			"cluster-admin bindings, when --components lockdown is added), and waits until the\n" +
			"controllers are ready. Run it again with another --version to upgrade.\n\n" +
			"The images are <registry>/<controller>:<version>: push them first with\n" +
			"`make push REGISTRY=… VERSION=…`. Components: " + install.ComponentHelp() + ".\n\n" +
			"With --export it prints the manifests instead, e.g. to commit them to a repository.",
		Example: `  # Install the images you pushed, into weir-system, and wait for the controllers
  weir install --registry ghcr.io/acme/weir --version v0.1.0

  # A multi-tenant install in another namespace
  weir install --registry ghcr.io/acme/weir --version v0.1.0 --namespace gitops --components lockdown

  # Print the manifests, e.g. for kubectl apply --server-side -f - or a bootstrap repository
  weir install --export --registry ghcr.io/acme/weir --version v0.1.0 > weir.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Namespace = install.DefaultNamespace
			if cmd.Flags().Changed("namespace") {
				o.Namespace = *g.Kube.Namespace
			}
			if !cmd.Flags().Changed("version") && o.Version == "" {
				o.Version = releaseVersion()
			}
			y, err := install.Render(o)
			if err != nil {
				return err
			}
			if export {
				_, err := g.Out.Write(y)
				return err
			}
			objs, err := install.Decode(y)
			if err != nil {
				return err
			}
			c, err := g.Client()
			if err != nil {
				return err
			}
			in := &installer{g: g, c: c, opts: o, objs: objs, timeout: timeout}
			return in.run(cmd.Context(), wait)
		},
	}
	cmd.Flags().StringVar(&o.Registry, "registry", "", "the registry and repository prefix of the images, e.g. ghcr.io/acme/weir (default: deploy/'s weir/<controller>)")
	cmd.Flags().StringVar(&o.Version, "version", "", "the images' tag and the installed version label (default: this weir's release version, else deploy/'s dev)")
	cmd.Flags().StringSliceVar(&o.Components, "components", nil, "optional components of deploy/components to include: "+strings.Join(deploy.Components, ", "))
	cmd.Flags().BoolVar(&export, "export", false, "print the manifests instead of applying them")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait until the controllers are ready")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the CRDs to be Established and the controllers to be ready")
	return cmd
}

// releaseVersion returns this weir's version when it is a release (a v-prefixed tag), so that
// an install without --version matches the CLI; "" otherwise.
func releaseVersion() string {
	v := buildVersion()
	if strings.HasPrefix(v, "v") && !strings.HasSuffix(v, "-dirty") {
		return v
	}
	return ""
}

// progress prints one line of an install's or uninstall's progress.
func progress(g *Globals, format string, args ...any) {
	fmt.Fprintf(g.Out, format+"\n", args...)
}
