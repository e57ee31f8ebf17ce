package release

import (
	"slices"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
)

// TestOptions configure Test.
type TestOptions struct {
	// Timeout bounds each test's run.
	Timeout time.Duration
	// Include, when not empty, runs only the tests of these names; Exclude skips tests.
	Include, Exclude []string
}

// Test runs the test hooks of the newest revision that the filters select, and records each
// one's last run in storage. It returns the revision with its hooks' runs, also on failure.
func (r *Runner) Test(o TestOptions) (_ *release.Release, retErr error) {
	defer countAction("test", &retErr)
	done, err := r.begin()
	if err != nil {
		return nil, err
	}
	defer done()
	a := action.NewReleaseTesting(r.cfg)
	a.Namespace = r.Target.Namespace
	a.Timeout = o.Timeout
	if len(o.Include) > 0 {
		a.Filters[action.IncludeNameFilter] = o.Include
	}
	if len(o.Exclude) > 0 {
		a.Filters[action.ExcludeNameFilter] = o.Exclude
	}
	return a.Run(r.Target.Name)
}

// TestHooks returns the test hooks of rel that o selects.
func TestHooks(rel *release.Release, o TestOptions) []*release.Hook {
	var out []*release.Hook
	for _, h := range rel.Hooks {
		if !slices.Contains(h.Events, release.HookTest) || slices.Contains(o.Exclude, h.Name) ||
			(len(o.Include) > 0 && !slices.Contains(o.Include, h.Name)) {
			continue
		}
		out = append(out, h)
	}
	return out
}

// TestResult summarises the last run of the selected test hooks of a revision.
type TestResult string

// Test results.
const (
	// TestsNotRun: a selected test has not run on this revision.
	TestsNotRun TestResult = "NotRun"
	// TestsFailed: a selected test failed.
	TestsFailed TestResult = "Failed"
	// TestsPassed: every selected test succeeded, or none is selected.
	TestsPassed TestResult = "Passed"
)

// Tested says how the selected tests of rel last ran.
func Tested(rel *release.Release, o TestOptions) TestResult {
	result := TestsPassed
	for _, h := range TestHooks(rel, o) {
		switch h.LastRun.Phase {
		case release.HookPhaseFailed:
			return TestsFailed
		case release.HookPhaseSucceeded:
		default:
			result = TestsNotRun
		}
	}
	return result
}
