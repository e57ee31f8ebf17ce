package release

import (
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
)

// RollbackOptions configure Rollback.
type RollbackOptions struct {
	// Timeout bounds each Kubernetes operation (hooks, waiting).
	Timeout           time.Duration
	Wait, WaitForJobs bool
	DisableHooks      bool
	Recreate          bool
	Force             bool
	CleanupOnFail     bool
}

// Rollback makes a new revision from the newest successful (deployed or superseded) revision
// older than the newest one, and returns that revision's number. It fails when there is none.
func (r *Runner) Rollback(o RollbackOptions) (_ int, retErr error) {
	defer countAction("rollback", &retErr)
	revs, err := r.History()
	if err != nil {
		return 0, err
	}
	target := rollbackTarget(revs)
	if target == 0 {
		return 0, fmt.Errorf("release %s has no earlier successful revision to roll back to", r.key())
	}
	done, err := r.begin()
	if err != nil {
		return 0, err
	}
	defer done()
	a := action.NewRollback(r.cfg)
	a.Version = target
	a.MaxHistory = r.Target.MaxHistory
	a.Timeout = o.Timeout
	a.Wait = o.Wait
	a.WaitForJobs = o.Wait && o.WaitForJobs
	a.DisableHooks = o.DisableHooks
	a.Recreate = o.Recreate
	a.Force = o.Force
	a.CleanupOnFail = o.CleanupOnFail
	return target, a.Run(r.Target.Name)
}

// rollbackTarget is the version of the newest deployed or superseded revision after the first
// of revs (newest first); 0 when there is none.
func rollbackTarget(revs []*release.Release) int {
	for i, rel := range revs {
		if i == 0 || rel.Info == nil {
			continue
		}
		if s := rel.Info.Status; s == release.StatusDeployed || s == release.StatusSuperseded {
			return rel.Version
		}
	}
	return 0
}
