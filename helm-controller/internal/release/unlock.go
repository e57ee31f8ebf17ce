package release

import (
	"fmt"

	"helm.sh/helm/v3/pkg/release"
)

// Unlock marks a revision left pending (install, upgrade, rollback) or uninstalling by a
// stopped controller as failed, so the next action can run; Helm refuses to act on a release
// whose newest revision is pending. It refuses a revision this process is acting on, and one
// that is not pending.
func (r *Runner) Unlock(rel *release.Release) error {
	done, err := r.begin()
	if err != nil {
		return err
	}
	defer done()
	was := rel.Info.Status
	if !was.IsPending() && was != release.StatusUninstalling {
		return fmt.Errorf("revision %d of release %s is %s, not pending", rel.Version, r.key(), was)
	}
	rel.SetStatus(release.StatusFailed, fmt.Sprintf("Release was left %s by an interrupted action; marked failed to unlock it", was))
	if err := r.cfg.Releases.Update(rel); err != nil {
		return fmt.Errorf("marking revision %d of release %s failed: %w", rel.Version, r.key(), err)
	}
	return nil
}
