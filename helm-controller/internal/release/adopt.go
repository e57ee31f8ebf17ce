package release

import (
	"fmt"
	"maps"

	"helm.sh/helm/v3/pkg/release"
)

// Adopt marks rel, the newest revision of the release, as owner's by adding owner's labels to
// its storage record. It makes no new revision and runs nothing: the release keeps its version,
// status, manifest and objects. The labels make Observe report the release Unowned to any
// other owner, so two HelmReleases cannot both adopt it. It refuses a revision that another
// owner's labels mark, and one an action of this process is running on.
func (r *Runner) Adopt(rel *release.Release, owner map[string]string) error {
	done, err := r.begin()
	if err != nil {
		return err
	}
	defer done()
	if other := foreignOwner(rel, owner); other != "" {
		return fmt.Errorf("revision %d of release %s belongs to another owner (%s)", rel.Version, r.key(), other)
	}
	labels := maps.Clone(rel.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, owner)
	rel.Labels = labels
	if err := r.cfg.Releases.Update(rel); err != nil {
		return fmt.Errorf("labelling revision %d of release %s: %w", rel.Version, r.key(), err)
	}
	return nil
}
