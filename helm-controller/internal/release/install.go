package release

import (
	"context"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/postrender"
	"helm.sh/helm/v3/pkg/release"

	"weir.dev/pkg/helm/render"
)

// ActionOptions are what Install and Upgrade share.
type ActionOptions struct {
	Chart  *chart.Chart
	Values map[string]any
	// PostRenderer transforms the rendered manifests before they are applied; nil for none.
	PostRenderer postrender.PostRenderer
	// Labels are stored on the new revision's record, marking its owner.
	Labels map[string]string
	// Timeout bounds each Kubernetes operation (hooks, waiting).
	Timeout                  time.Duration
	Wait, WaitForJobs        bool
	DisableHooks             bool
	DisableOpenAPIValidation bool
	SkipSchemaValidation     bool
	// TakeOwnership adopts existing objects that no release owns.
	TakeOwnership bool
}

// InstallOptions configure Install.
type InstallOptions struct {
	ActionOptions
	// Replace reuses the name of a release whose newest revision is uninstalled or failed.
	Replace         bool
	CreateNamespace bool
}

// Install installs the release, without the chart's crds/ (see ApplyCRDs), refusing a values
// schema that render.CheckSchemas refuses unless schema validation is skipped. On failure it returns
// the error and, when Helm got as far as recording it, the failed release.
func (r *Runner) Install(ctx context.Context, o InstallOptions) (_ *release.Release, retErr error) {
	defer countAction("install", &retErr)
	done, err := r.begin()
	if err != nil {
		return nil, err
	}
	defer done()
	if !o.SkipSchemaValidation {
		if err := render.CheckSchemas(o.Chart); err != nil {
			return nil, err
		}
	}
	a := action.NewInstall(r.cfg)
	a.ReleaseName = r.Target.Name
	a.Namespace = r.Target.Namespace
	a.Labels = o.Labels
	a.PostRenderer = o.PostRenderer
	a.Timeout = o.Timeout
	a.Wait = o.Wait
	a.WaitForJobs = o.Wait && o.WaitForJobs
	a.DisableHooks = o.DisableHooks
	a.DisableOpenAPIValidation = o.DisableOpenAPIValidation
	a.SkipSchemaValidation = o.SkipSchemaValidation
	a.TakeOwnership = o.TakeOwnership
	a.Replace = o.Replace
	// The chart's crds/ are applied by ApplyCRDs, which checks them; Helm would create any object there.
	a.SkipCRDs = true
	a.CreateNamespace = o.CreateNamespace
	return a.RunWithContext(ctx, o.Chart, o.Values)
}
