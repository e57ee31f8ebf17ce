package release

import (
	"testing"

	"helm.sh/helm/v3/pkg/release"
)

func TestRollbackTarget(t *testing.T) {
	rev := func(v int, s release.Status) *release.Release {
		return &release.Release{Version: v, Info: &release.Info{Status: s}}
	}
	for _, tc := range []struct {
		name string
		revs []*release.Release
		want int
	}{
		{"previous deployed", []*release.Release{rev(2, release.StatusFailed), rev(1, release.StatusDeployed)}, 1},
		{"skips failed ones", []*release.Release{rev(4, release.StatusFailed), rev(3, release.StatusFailed), rev(2, release.StatusSuperseded), rev(1, release.StatusSuperseded)}, 2},
		{"never the newest", []*release.Release{rev(1, release.StatusDeployed)}, 0},
		{"none successful", []*release.Release{rev(2, release.StatusFailed), rev(1, release.StatusFailed)}, 0},
		{"empty", nil, 0},
	} {
		if got := rollbackTarget(tc.revs); got != tc.want {
			t.Errorf("%s: rollbackTarget = %d, want %d", tc.name, got, tc.want)
		}
	}
}
