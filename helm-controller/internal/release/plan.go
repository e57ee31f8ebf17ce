package release

import (
	"context"

	"weir.dev/pkg/helm/render"
)

// Render renders the manifest an install or upgrade with o would apply, and applies nothing
// (render.Manifest, the render the weir CLI's diff shares), as the runner's identity. It
// takes no lock: the release is not touched.
func (r *Runner) Render(ctx context.Context, o ActionOptions) (string, error) {
	return render.Manifest(ctx, r.cfg, render.Options{
		ReleaseName:              r.Target.Name,
		Namespace:                r.Target.Namespace,
		Chart:                    o.Chart,
		Values:                   o.Values,
		PostRenderer:             o.PostRenderer,
		Labels:                   o.Labels,
		DisableOpenAPIValidation: o.DisableOpenAPIValidation,
		SkipSchemaValidation:     o.SkipSchemaValidation,
	})
}
