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

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/cli/internal/preview"
)

func init() { register(newBuildCmd) }

// buildFlags are the flags of `weir build kustomization` and `weir diff kustomization`.
type buildFlags struct {
	path             string
	file             string
	dryRun           bool
	allowRemoteBases bool
}

func newBuildCmd(g *Globals) *cobra.Command {
	build := &cobra.Command{
		Use:   "build",
		Short: "Build what a Weir object would apply, from local files",
	}
	var f buildFlags
	ks := &cobra.Command{
		Use:     "kustomization <name> --path DIR",
		Aliases: []string{"ks"},
		Short:   "Build a Kustomization from a local directory, exactly as kustomize-controller would",
		Long: `Build a Kustomization from a local directory, exactly as kustomize-controller would.

--path is the local directory that stands for the Kustomization's spec.path in its source.
When it is inside a Git working tree, that tree stands for the source, so overlays may use
bases outside --path; the files are copied first and never written.
The Kustomization's spec (targetNamespace, patches, images, components, postBuild, ...) is
read from the cluster, or from --kustomization-file when given (a change under review), and
its postBuild.substituteFrom ConfigMaps and Secrets from the cluster. With --dry-run the Kustomization is read from --kustomization-file and no cluster is needed;
substituteFrom is then skipped. Secret values are printed masked.`,
		Example: `  weir build kustomization apps --path ./clusters/prod/apps -n weir-system
  weir build ks apps --path ./apps --dry-run --kustomization-file ./clusters/prod/apps.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, c, err := f.load(cmd.Context(), g, args[0])
			if err != nil {
				return err
			}
			objects, origins, err := preview.Build(cmd.Context(), c, ks, f.path, f.allowRemoteBases)
			if err != nil {
				return err
			}
			return preview.WriteYAML(g.Out, objects, origins)
		},
	}
	f.addFlags(ks, true)
	build.AddCommand(ks)
	return build
}

func (f *buildFlags) addFlags(cmd *cobra.Command, dryRun bool) {
	cmd.Flags().StringVar(&f.path, "path", "", "local directory standing for the Kustomization's spec.path")
	_ = cmd.MarkFlagRequired("path")
	cmd.Flags().StringVar(&f.file, "kustomization-file", "", "a file holding the Kustomization, whose spec is used instead of the cluster's")
	cmd.Flags().BoolVar(&f.allowRemoteBases, "allow-remote-bases", false,
		"fetch remote kustomize resources (http(s) files, Git bases over http(s)), as kustomize-controller --allow-remote-bases does; off, they fail the build")
	if dryRun {
		cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "build without a cluster, from --kustomization-file")
	}
}

// load returns the Kustomization called name and the client for its substituteFrom. Its spec
// is --kustomization-file's when given, else the cluster's; its status (the inventory diff
// prunes from) is the cluster's. With --dry-run there is no cluster and no client.
func (f *buildFlags) load(ctx context.Context, g *Globals, name string) (*kustomizev1.Kustomization, client.Client, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	var fromFile *kustomizev1.Kustomization
	if f.file != "" {
		ks, err := readKustomization(f.file)
		if err != nil {
			return nil, nil, err
		}
		if ks.Name != name {
			return nil, nil, fmt.Errorf("%s holds Kustomization '%s', not '%s'", f.file, ks.Name, name)
		}
		if ks.Namespace == "" {
			ks.Namespace = g.Namespace()
		}
		fromFile = ks
	}
	if f.dryRun {
		if fromFile == nil {
			return nil, nil, errors.New("--dry-run needs --kustomization-file")
		}
		return fromFile, nil, nil
	}
	c, err := g.Client()
	if err != nil {
		return nil, nil, err
	}
	live := &kustomizev1.Kustomization{}
	key := client.ObjectKey{Namespace: g.Namespace(), Name: name}
	if fromFile != nil {
		key.Namespace = fromFile.Namespace
	}
	switch err := c.Get(ctx, key, live); {
	case apierrors.IsNotFound(err) && fromFile != nil:
		return fromFile, c, nil // a new Kustomization: nothing applied yet
	case apierrors.IsNotFound(err):
		return nil, nil, fmt.Errorf("Kustomization '%s' not found (list them with `weir get kustomizations -n %s`)", key, key.Namespace)
	case err != nil:
		return nil, nil, fmt.Errorf("reading Kustomization '%s': %w", key, err)
	}
	if fromFile != nil {
		fromFile.Status = live.Status
		return fromFile, c, nil
	}
	return live, c, nil
}

// readKustomization reads a Kustomization manifest, refusing any other kind.
func readKustomization(path string) (*kustomizev1.Kustomization, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ks := &kustomizev1.Kustomization{}
	if err := yaml.UnmarshalStrict(b, ks); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if gvk := ks.GroupVersionKind(); gvk != kustomizev1.GroupVersion.WithKind("Kustomization") {
		return nil, fmt.Errorf("%s: holds %s, not a %s Kustomization", path, gvk, kustomizev1.GroupVersion)
	}
	return ks, nil
}
