package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ssautils "github.com/fluxcd/pkg/ssa/utils"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/postrender"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Options say what to render and how.
type Options struct {
	// ReleaseName and Namespace are the release's name and the namespace its objects go to.
	ReleaseName, Namespace string
	Chart                  *chart.Chart
	Values                 map[string]any
	// PostRenderer transforms the rendered manifests; nil for none.
	PostRenderer postrender.PostRenderer
	// Labels are the release record's labels (they are not set on the objects).
	Labels                   map[string]string
	DisableOpenAPIValidation bool
	// SkipSchemaValidation skips the chart's values schema, and CheckSchemas with it.
	SkipSchemaValidation bool
}

// Manifest renders the manifest an install or upgrade with o would apply, and applies nothing:
// a dry-run install of the chart and values, post-renderers applied, the chart's hooks and
// crds/ left out, checked against the cluster's API (and its `lookup`s answered by it) as
// cfg's identity. It takes no lock and writes no release record. A schema CheckSchemas
// refuses is refused unless o.SkipSchemaValidation.
func Manifest(ctx context.Context, cfg *action.Configuration, o Options) (string, error) {
	if !o.SkipSchemaValidation {
		if err := CheckSchemas(o.Chart); err != nil {
			return "", err
		}
	}
	a := action.NewInstall(cfg)
	a.ReleaseName = o.ReleaseName
	a.Namespace = o.Namespace
	a.DryRun = true
	a.DryRunOption = "server"
	// The release may exist: this is the manifest an upgrade would make, not a new install.
	a.IsUpgrade = true
	a.Replace = true
	a.SkipCRDs = true
	a.DisableHooks = true
	a.PostRenderer = o.PostRenderer
	a.DisableOpenAPIValidation = o.DisableOpenAPIValidation
	a.SkipSchemaValidation = o.SkipSchemaValidation
	a.Labels = o.Labels
	rel, err := a.RunWithContext(ctx, o.Chart, o.Values)
	if err != nil {
		return "", err
	}
	return rel.Manifest, nil
}

// LoadChart loads the chart at the root of dir, or in its only subdirectory (a packaged chart
// extracts into `<name>/`), and validates its metadata.
func LoadChart(dir string) (*chart.Chart, error) {
	root := dir
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		var found []string
		for _, e := range entries {
			if e.IsDir() {
				if _, err := os.Stat(filepath.Join(dir, e.Name(), "Chart.yaml")); err == nil {
					found = append(found, e.Name())
				}
			}
		}
		if len(found) != 1 {
			return nil, fmt.Errorf("holds %d charts (directories with a Chart.yaml) at its root, want 1", len(found))
		}
		root = filepath.Join(dir, found[0])
	}
	ch, err := loader.LoadDir(root)
	if err != nil {
		return nil, fmt.Errorf("loading the chart: %w", err)
	}
	if err := ch.Validate(); err != nil {
		return nil, fmt.Errorf("invalid chart: %w", err)
	}
	return ch, nil
}

// Objects decodes a release manifest and puts namespaced objects without a namespace into
// namespace, as Helm does when it applies them. mapper tells namespaced kinds apart.
func Objects(manifest, namespace string, mapper apimeta.RESTMapper) ([]*unstructured.Unstructured, error) {
	objects, err := ssautils.ReadObjects(strings.NewReader(manifest))
	if err != nil {
		return nil, err
	}
	for _, o := range objects {
		if o.GetNamespace() != "" {
			continue
		}
		gvk := o.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", gvk.Kind, o.GetName(), err)
		}
		if mapping.Scope.Name() == apimeta.RESTScopeNameNamespace {
			o.SetNamespace(namespace)
		}
	}
	return objects, nil
}
