package release

import (
	"maps"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// copyingDriver is Helm's in-memory driver returning and storing copies, as the Secrets driver
// does: a release read earlier does not see later writes.
type copyingDriver struct{ *driver.Memory }

func copyRelease(r *release.Release) *release.Release {
	c := *r
	c.Labels = maps.Clone(r.Labels)
	return &c
}

func (d copyingDriver) Query(labels map[string]string) ([]*release.Release, error) {
	rs, err := d.Memory.Query(labels)
	out := make([]*release.Release, len(rs))
	for i, r := range rs {
		out[i] = copyRelease(r)
	}
	return out, err
}

func (d copyingDriver) Update(key string, r *release.Release) error {
	return d.Memory.Update(key, copyRelease(r))
}

// TestAdopt: adopting labels the newest record as the owner's without a new revision, and a
// second owner that read the record before the first adopted it is refused, not let to
// relabel it.
func TestAdopt(t *testing.T) {
	a := map[string]string{"helm.weir.dev/name": "a", "helm.weir.dev/namespace": "team"}
	b := map[string]string{"helm.weir.dev/name": "b", "helm.weir.dev/namespace": "team"}
	store := storage.Init(copyingDriver{driver.NewMemory()})
	if err := store.Create(&release.Release{Name: "app", Namespace: "team", Version: 3,
		Chart: &chart.Chart{Metadata: &chart.Metadata{Name: "demo", Version: "1.0.0"}},
		Info:  &release.Info{Status: release.StatusDeployed}}); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Target: Target{Name: "app", Namespace: "team", StorageNamespace: "team"}, cfg: &action.Configuration{Releases: store}}
	seenByA, err := store.Last("app")
	if err != nil {
		t.Fatal(err)
	}
	seenByB, _ := store.Last("app")

	if err := r.Adopt(seenByA, a); err != nil {
		t.Fatal(err)
	}
	cur, _ := store.Last("app")
	if !Owned(cur, a) || cur.Version != 3 || cur.Info.Status != release.StatusDeployed {
		t.Fatalf("after adoption: version %d %s, labels %v", cur.Version, cur.Info.Status, cur.Labels)
	}
	if h, _ := store.History("app"); len(h) != 1 {
		t.Fatalf("%d revisions after adoption, want 1", len(h))
	}

	err = r.Adopt(seenByB, b)
	if err == nil || !strings.Contains(err.Error(), "belongs to another owner (helm.weir.dev/name=a, helm.weir.dev/namespace=team)") {
		t.Fatalf("second adoption: %v", err)
	}
	if cur, _ := store.Last("app"); !Owned(cur, a) {
		t.Fatalf("the second adoption relabelled the record: %v", cur.Labels)
	}
	if err := r.Adopt(cur, a); err != nil {
		t.Fatalf("adopting again as the owner: %v", err)
	}
}
