package release

import (
	"context"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"

	"weir.dev/pkg/helm/render"
)

// UpgradeOptions configure Upgrade.
type UpgradeOptions struct {
	ActionOptions
	// Force replaces objects whose update fails.
	Force bool
	// CleanupOnFail deletes the objects a failed upgrade created.
	CleanupOnFail bool
	// ReuseValues merges Values over the previous revision's values instead of replacing them.
	ReuseValues bool
}

// Upgrade makes a new revision of the release, which may be deployed, failed or superseded.
// On failure it returns the error and, when Helm got as far as recording it, the failed
// revision. Like Install, it refuses a values schema that render.CheckSchemas refuses unless schema
// validation is skipped.
func (r *Runner) Upgrade(ctx context.Context, o UpgradeOptions) (_ *release.Release, retErr error) {
	defer countAction("upgrade", &retErr)
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
	a := action.NewUpgrade(r.cfg)
	a.Namespace = r.Target.Namespace
	a.MaxHistory = r.Target.MaxHistory
	a.Labels = o.Labels
	a.PostRenderer = o.PostRenderer
	a.Timeout = o.Timeout
	a.Wait = o.Wait
	a.WaitForJobs = o.Wait && o.WaitForJobs
	a.DisableHooks = o.DisableHooks
	a.DisableOpenAPIValidation = o.DisableOpenAPIValidation
	a.SkipSchemaValidation = o.SkipSchemaValidation
	a.TakeOwnership = o.TakeOwnership
	a.Force = o.Force
	a.CleanupOnFail = o.CleanupOnFail
	a.ReuseValues = o.ReuseValues
	a.ResetValues = !o.ReuseValues
	return a.RunWithContext(ctx, r.Target.Name, o.Chart, o.Values)
}
