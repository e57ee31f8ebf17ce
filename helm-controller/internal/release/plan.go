package release

import (
	"context"

	"helm.sh/helm/v3/pkg/action"
)

// Render renders the manifest an install or upgrade with o would apply, and applies nothing:
// a dry-run install of the chart and values, post-renderers applied, the chart's hooks and
// crds/ left out, checked against the cluster's API (and its `lookup`s answered by it) as
// the runner's identity. It takes no lock: the release is not touched.
func (r *Runner) Render(ctx context.Context, o ActionOptions) (string, error) {
	if !o.SkipSchemaValidation {
		if err := CheckSchemas(o.Chart); err != nil {
			return "", err
		}
	}
	a := action.NewInstall(r.cfg)
	a.ReleaseName = r.Target.Name
	a.Namespace = r.Target.Namespace
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
