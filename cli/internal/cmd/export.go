package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/cli/internal/manifest"
	"weir.dev/cli/internal/objects"
)

func init() { register(newExportCmd) }

type exportOptions struct {
	all           bool
	allNamespaces bool
}

// secretKind is the one kind beside Weir's that export knows; it is exported only when named.
var secretKind = &objects.Kind{Kind: "Secret", GroupVersion: corev1.SchemeGroupVersion, Plural: "secrets"}

// skippedSecretTypes are Secrets the cluster or a controller writes, never a user: --all
// leaves them out.
var skippedSecretTypes = map[string]bool{
	string(corev1.SecretTypeServiceAccountToken): true,
	"helm.sh/release.v1":                         true,
}

func newExportCmd(g *Globals) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export <kind>|all|secret [name | --all] [-A]",
		Short: "Print Weir objects as clean YAML that re-applies",
		Long: "export prints objects as YAML without status and without what the API server or a\n" +
			"controller fills in (uid, resourceVersion, generation, creationTimestamp, managedFields,\n" +
			"finalizers, ownerReferences, last-applied and reconcile-request annotations), sorted by\n" +
			"namespace and name, `---` between them: ready to commit and apply elsewhere.\n" +
			"`all` exports every Weir kind, sources first. HelmCharts a HelmRelease made from its\n" +
			"spec.chart are left out of --all: the HelmRelease makes them again. Secrets are exported\n" +
			"only as the kind `secret`, named explicitly, because their values are printed.\n" +
			"Kinds: " + objects.KindNames() + ".",
		Example: `  # One Kustomization
  weir export kustomization apps -n production > apps.yaml

  # Every Weir object in every namespace, to move to another cluster
  weir export all --all -A > weir-objects.yaml

  # A Secret, with its values (keep the output safe)
  weir export secret app-auth`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeKindThenName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			kinds, err := exportKinds(args[0])
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 2 {
				name = args[1]
			}
			switch {
			case name != "" && o.all:
				return errors.New("give a name or --all, not both")
			case name == "" && !o.all:
				return fmt.Errorf("give the %s's name, or --all", strings.ToLower(kinds[0].Kind))
			case name != "" && o.allNamespaces:
				return errors.New("-A exports from every namespace: it needs --all instead of a name")
			case name != "" && len(kinds) > 1:
				return errors.New("`all` takes --all, not a name")
			}
			c, err := g.Client()
			if err != nil {
				return err
			}
			var us []*unstructured.Unstructured
			for _, k := range kinds {
				got, err := o.collect(cmd.Context(), g, c, k, name)
				if err != nil {
					return err
				}
				us = append(us, got...)
			}
			if len(us) == 0 {
				where := "namespace " + g.Namespace()
				if o.allNamespaces {
					where = "any namespace"
				}
				fmt.Fprintf(g.Err, "no %s in %s\n", args[0], where)
				return nil
			}
			y, err := manifest.YAML(us)
			if err != nil {
				return err
			}
			_, err = g.Out.Write(y)
			return err
		},
	}
	cmd.Flags().BoolVar(&o.all, "all", false, "export every object of the kind in the namespace")
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "with --all: in every namespace")
	return cmd
}

// exportKinds resolves export's kind argument.
func exportKinds(arg string) ([]*objects.Kind, error) {
	switch strings.ToLower(arg) {
	case "all":
		return objects.Kinds, nil
	case "secret", "secrets":
		return []*objects.Kind{secretKind}, nil
	}
	k, err := objects.FindKind(arg)
	if err != nil {
		return nil, fmt.Errorf("%w, all, or secret", err)
	}
	return []*objects.Kind{k}, nil
}

// collect returns the cleaned objects of kind k to export: the one called name, or with
// --all every one in the namespace (or all of them with -A), sorted by namespace and name.
func (o *exportOptions) collect(ctx context.Context, g *Globals, c client.Client, k *objects.Kind, name string) ([]*unstructured.Unstructured, error) {
	if name != "" {
		u, err := getObject(ctx, c, k, g.Namespace(), name)
		if err != nil {
			return nil, err
		}
		if owner := chartOwner(u); owner != "" {
			fmt.Fprintf(g.Err, "note: HelmRelease %s makes this HelmChart from its spec.chart; applying the export elsewhere next to it gives the chart two writers\n", owner)
		}
		return []*unstructured.Unstructured{manifest.Clean(u)}, nil
	}
	list := k.NewList()
	var opts []client.ListOption
	if !o.allNamespaces {
		opts = append(opts, client.InNamespace(g.Namespace()))
	}
	if err := c.List(ctx, list, opts...); err != nil {
		return nil, apiError(err)
	}
	var out []*unstructured.Unstructured
	for i := range list.Items {
		u := &list.Items[i]
		if chartOwner(u) != "" || generatedArtifact(u) {
			continue
		}
		if k == secretKind {
			if t, _, _ := unstructured.NestedString(u.Object, "type"); skippedSecretTypes[t] {
				continue
			}
		}
		u.SetGroupVersionKind(k.GVK())
		out = append(out, manifest.Clean(u))
	}
	manifest.SortByNamespaceName(out)
	return out, nil
}

// generatedArtifact reports whether u is an ExternalArtifact an ArtifactGenerator made: the
// generator's export makes it again.
func generatedArtifact(u *unstructured.Unstructured) bool {
	if u.GetKind() != "ExternalArtifact" {
		return false
	}
	ref := metav1.GetControllerOf(u)
	return ref != nil && ref.Kind == "ArtifactGenerator"
}

// chartOwner returns `namespace/name` of the HelmRelease that made u, a HelmChart, from its
// spec.chart; "" for anything else.
func chartOwner(u *unstructured.Unstructured) string {
	if u.GetKind() != "HelmChart" {
		return ""
	}
	l := u.GetLabels()
	if l[helmv1.OwnerNameLabel] == "" {
		return ""
	}
	return l[helmv1.OwnerNamespaceLabel] + "/" + l[helmv1.OwnerNameLabel]
}
