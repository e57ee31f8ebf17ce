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
// owner's labels mark, one an action of this process is running on, and one no longer the
// newest; it reads the record again first, so what it checks is what it labels.
func (r *Runner) Adopt(rel *release.Release, owner map[string]string) error {
	done, err := r.begin()
	if err != nil {
		return err
	}
	defer done()
	// Read again under the lock: another HelmRelease may have adopted it since rel was read.
	cur, err := r.cfg.Releases.Last(r.Target.Name)
	if err != nil {
		return fmt.Errorf("reading release %s from storage: %w", r.key(), err)
	}
	if cur.Version != rel.Version {
		return fmt.Errorf("release %s has a new revision %d since revision %d was observed", r.key(), cur.Version, rel.Version)
	}
	if other := foreignOwner(cur, owner); other != "" {
		return fmt.Errorf("revision %d of release %s belongs to another owner (%s)", cur.Version, r.key(), other)
	}
	rel = cur
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
