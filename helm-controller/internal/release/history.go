package release

import (
	"errors"
	"fmt"
	"sort"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// History returns the release's revisions in storage, newest first; none when it has none.
func (r *Runner) History() ([]*release.Release, error) {
	revs, err := r.cfg.Releases.History(r.Target.Name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the history of release %s: %w", r.key(), err)
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i].Version > revs[j].Version })
	return revs, nil
}
