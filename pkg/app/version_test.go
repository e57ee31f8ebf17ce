package app

import (
	"strings"
	"testing"
)

func TestLeaderElectionIDPerShard(t *testing.T) {
	if got := leaderElectionID("kustomize-controller", ""); got != "kustomize-controller-leader-election" {
		t.Errorf("without a selector: %q", got)
	}
	a := leaderElectionID("kustomize-controller", "sharding.weir.dev/key=shard1")
	b := leaderElectionID("kustomize-controller", "sharding.weir.dev/key=shard2")
	if a == b || !strings.HasPrefix(a, "kustomize-controller-") || !strings.HasSuffix(a, "-leader-election") {
		t.Errorf("shards share or misname their Lease: %q, %q", a, b)
	}
	if len(a) > 63 {
		t.Errorf("%q is longer than a Lease name may be", a)
	}
	if leaderElectionID("kustomize-controller", " sharding.weir.dev/key=shard1 ") != a {
		t.Error("surrounding blanks change the Lease")
	}
}
