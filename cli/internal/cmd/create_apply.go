package cmd

import (
	"time"

	"github.com/spf13/cobra"

	"weir.dev/cli/internal/manifest"
)

func newCreateKustomizationCmd(g *Globals, o *createOptions) *cobra.Command {
	k := &manifest.Kustomization{}
	cmd := &cobra.Command{
		Use:     "kustomization <name> --source [Kind/]NAME[.NS] [--path P] [--prune]",
		Aliases: []string{"ks"},
		Short:   "Create a Kustomization",
		Example: `  # Apply ./deploy/production of the GitRepository app, pruning what is removed
  weir create kustomization app --source GitRepository/app --path ./deploy/production --prune

  # As a tenant's ServiceAccount, into its namespace, after the infrastructure
  weir create ks team-a --source OCIRepository/team-a.team-a --service-account team-a \
    --target-namespace team-a --depends-on infrastructure --wait`,
		Args: oneName("Kustomization"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, k)
		},
	}
	f := cmd.Flags()
	f.StringVar(&k.Source, "source", "", "the source: [GitRepository|OCIRepository/]name[.namespace]")
	f.StringVar(&k.Path, "path", "", "the directory in the source with the manifests (default: its root)")
	f.BoolVar(&k.Prune, "prune", false, "delete what was applied before and is no longer in the source")
	f.BoolVar(&k.Wait, "wait", false, "be Ready only when every applied object is healthy")
	f.BoolVar(&k.Force, "force", false, "recreate objects whose immutable fields changed")
	f.StringSliceVar(&k.DependsOn, "depends-on", nil, "Kustomizations that must be Ready first: name[.namespace], comma-separated")
	f.StringSliceVar(&k.HealthChecks, "health-check", nil, "objects whose health gates Ready: Kind/name[.namespace], comma-separated")
	f.StringVar(&k.TargetNamespace, "target-namespace", "", "the namespace of every namespaced object applied")
	f.StringVar(&k.ServiceAccount, "service-account", "", "the ServiceAccount, in this namespace, to apply as")
	f.StringVar(&k.DecryptionProvider, "decryption-provider", "", "decrypt SOPS-encrypted manifests: sops")
	f.StringVar(&k.DecryptionSecret, "decryption-secret", "", "the Secret with the SOPS keys (age, OpenPGP)")
	f.DurationVar(&k.Interval, "interval", time.Minute, "how often to apply the source again, correcting drift")
	f.DurationVar(&k.RetryInterval, "retry-interval", 0, "how soon to retry after a failure (default: --interval)")
	return cmd
}

func newCreateHelmReleaseCmd(g *Globals, o *createOptions) *cobra.Command {
	h := &manifest.HelmRelease{}
	cmd := &cobra.Command{
		Use:     "helmrelease <name> (--source Kind/NAME[.NS] --chart CHART | --chart-ref Kind/NAME[.NS])",
		Aliases: []string{"hr"},
		Short:   "Create a HelmRelease",
		Example: `  # podinfo from a HelmRepository, version 6.x, with values from a file
  weir create helmrelease podinfo --source HelmRepository/podinfo --chart podinfo \
    --chart-version "6.x" --values ./podinfo-values.yaml

  # A chart in a Git repository, into another namespace, after another release
  weir create hr web --source GitRepository/app --chart ./charts/web --target-namespace web \
    --create-target-namespace --depends-on Kustomization/infrastructure`,
		Args: oneName("HelmRelease"),
		RunE: func(cmd *cobra.Command, args []string) error {
			h.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, h)
		},
	}
	f := cmd.Flags()
	f.StringVar(&h.Source, "source", "", "the chart's source: HelmRepository|GitRepository|OCIRepository/name[.namespace]")
	f.StringVar(&h.Chart, "chart", "", "the chart's name in a HelmRepository, or its directory in a Git or OCI source")
	f.StringVar(&h.ChartVersion, "chart-version", "", "a SemVer range of chart versions (default: the newest)")
	f.StringVar(&h.ChartRef, "chart-ref", "", "an existing chart artifact instead: OCIRepository|HelmChart/name[.namespace]")
	f.StringArrayVar(&h.ValuesFiles, "values", nil, "a YAML values file, merged into spec.values (repeatable; later files win)")
	f.StringSliceVar(&h.ValuesFrom, "values-from", nil, "ConfigMaps and Secrets with values.yaml: ConfigMap|Secret/name, comma-separated")
	f.StringVar(&h.TargetNamespace, "target-namespace", "", "the namespace to install the release into")
	f.BoolVar(&h.CreateTargetNamespace, "create-target-namespace", false, "create --target-namespace on install")
	f.StringVar(&h.ReleaseName, "release-name", "", "the Helm release's name (default: [<target-namespace>-]<name>)")
	f.StringVar(&h.ServiceAccount, "service-account", "", "the ServiceAccount, in this namespace, to run Helm as")
	f.StringSliceVar(&h.DependsOn, "depends-on", nil, "HelmReleases or Kustomizations that must be Ready first: [Kind/]name[.namespace], comma-separated")
	f.DurationVar(&h.Interval, "interval", time.Minute, "how often to reconcile the release, correcting drift")
	return cmd
}
