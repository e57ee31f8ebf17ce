package release

import (
	"encoding/json"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
)

func TestValuesDigest(t *testing.T) {
	if ValuesDigest(nil) != ValuesDigest(map[string]any{}) {
		t.Error("nil and empty values must have one digest")
	}
	// Values parsed from YAML hold ints; read back from Helm's storage they hold float64s.
	parsed := map[string]any{"replicas": 3, "nested": map[string]any{"b": true, "a": "x"}}
	var stored map[string]any
	b, _ := json.Marshal(parsed)
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	if ValuesDigest(parsed) != ValuesDigest(stored) {
		t.Error("values must keep their digest through Helm's storage")
	}
	if ValuesDigest(parsed) == ValuesDigest(map[string]any{"replicas": 4}) {
		t.Error("different values, same digest")
	}
	if len(ValuesChecksum(parsed)) != 40 {
		t.Error("the checksum is a SHA1 in hex")
	}
}

func TestObserve(t *testing.T) {
	owner := map[string]string{"helm.weir.dev/name": "app", "helm.weir.dev/namespace": "team"}
	other := map[string]string{"helm.weir.dev/name": "other", "helm.weir.dev/namespace": "team"}
	values := map[string]any{"a": 1}
	desired := Desired{ChartName: "demo", ChartVersion: "1.0.0", ConfigDigest: ValuesDigest(values)}
	rev := func(version int, status release.Status, chartVersion string, config map[string]any, labels map[string]string) *release.Release {
		return &release.Release{Name: "app", Namespace: "team", Version: version, Config: config, Labels: labels,
			Chart: &chart.Chart{Metadata: &chart.Metadata{Name: "demo", Version: chartVersion}},
			Info:  &release.Info{Status: status}}
	}
	cases := []struct {
		name string
		revs []*release.Release
		busy bool
		want StateKind
	}{
		{name: "nothing stored", want: Absent},
		{name: "in sync", revs: []*release.Release{rev(1, release.StatusDeployed, "1.0.0", values, owner)}, want: InSync},
		{name: "unlabelled and in sync", revs: []*release.Release{rev(1, release.StatusDeployed, "1.0.0", values, nil)}, want: InSync},
		{name: "other chart version", revs: []*release.Release{rev(1, release.StatusDeployed, "0.9.0", values, owner)}, want: OutOfSync},
		{name: "other values", revs: []*release.Release{rev(1, release.StatusDeployed, "1.0.0", map[string]any{"a": 2}, owner)}, want: OutOfSync},
		{name: "newest failed", revs: []*release.Release{rev(1, release.StatusDeployed, "1.0.0", values, owner), rev(2, release.StatusFailed, "1.0.0", values, owner)}, want: Failed},
		{name: "pending upgrade", revs: []*release.Release{rev(1, release.StatusDeployed, "1.0.0", values, owner), rev(2, release.StatusPendingUpgrade, "1.0.0", values, owner)}, want: Locked},
		{name: "pending install of ours in flight", revs: []*release.Release{rev(1, release.StatusPendingInstall, "1.0.0", values, owner)}, busy: true, want: Busy},
		{name: "pending rollback", revs: []*release.Release{rev(1, release.StatusPendingRollback, "1.0.0", values, owner)}, want: Locked},
		{name: "uninstalled, history kept", revs: []*release.Release{rev(1, release.StatusUninstalled, "1.0.0", values, owner)}, want: Absent},
		{name: "someone else's", revs: []*release.Release{rev(1, release.StatusDeployed, "1.0.0", values, other)}, want: Unowned},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := storage.Init(driver.NewMemory())
			for _, r := range tc.revs {
				if err := store.Create(r); err != nil {
					t.Fatal(err)
				}
			}
			r := &Runner{Target: Target{Name: "app", Namespace: "team", StorageNamespace: "team"}, cfg: &action.Configuration{Releases: store}}
			if tc.busy {
				done, err := r.begin()
				if err != nil {
					t.Fatal(err)
				}
				defer done()
			}
			s, err := r.Observe(owner, desired)
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind != tc.want {
				t.Fatalf("state %s (%s), want %s", s.Kind, s.Why, tc.want)
			}
			if tc.want == Unowned && s.Why != "helm.weir.dev/name=other, helm.weir.dev/namespace=team" {
				t.Fatalf("Why %q does not name the owner", s.Why)
			}
		})
	}
}

func TestUnlockRefusesWhatIsNotPending(t *testing.T) {
	store := storage.Init(driver.NewMemory())
	deployed := &release.Release{Name: "app", Namespace: "team", Version: 1, Info: &release.Info{Status: release.StatusDeployed}}
	if err := store.Create(deployed); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Target: Target{Name: "app", Namespace: "team", StorageNamespace: "team"}, cfg: &action.Configuration{Releases: store}}
	if err := r.Unlock(deployed); err == nil {
		t.Fatal("a deployed revision was unlocked")
	}
}

func TestTested(t *testing.T) {
	hook := func(name string, phase release.HookPhase, events ...release.HookEvent) *release.Hook {
		return &release.Hook{Name: name, Events: events, LastRun: release.HookExecution{Phase: phase}}
	}
	rel := &release.Release{Hooks: []*release.Hook{
		hook("pre", "", release.HookPreInstall),
		hook("ok", release.HookPhaseSucceeded, release.HookTest),
		hook("bad", release.HookPhaseFailed, release.HookTest),
		hook("new", "", release.HookTest),
	}}
	for _, tc := range []struct {
		o    TestOptions
		want TestResult
	}{
		{TestOptions{}, TestsFailed},
		{TestOptions{Exclude: []string{"bad"}}, TestsNotRun},
		{TestOptions{Exclude: []string{"bad", "new"}}, TestsPassed},
		{TestOptions{Include: []string{"ok"}}, TestsPassed},
		{TestOptions{Include: []string{"pre"}}, TestsPassed}, // not a test hook
	} {
		if got := Tested(rel, tc.o); got != tc.want {
			t.Errorf("Tested(%+v) = %s, want %s", tc.o, got, tc.want)
		}
	}
	if n := len(TestHooks(rel, TestOptions{})); n != 3 {
		t.Errorf("%d test hooks, want 3", n)
	}
}
