package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/runtime/conditions"
	helmrelease "helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/steps"
)

// testsEnabled reports spec.test.enable.
func testsEnabled(obj *helmv1.HelmRelease) bool {
	return obj.Spec.Test != nil && obj.Spec.Test.Enable
}

// testOptions maps spec.test.
func testOptions(obj *helmv1.HelmRelease) release.TestOptions {
	o := release.TestOptions{Timeout: obj.GetTimeout()}
	te := obj.Spec.Test
	if te == nil {
		return o
	}
	o.Timeout = durationOr(te.Timeout, o.Timeout)
	if te.Filters != nil {
		for _, f := range *te.Filters {
			if f.Exclude {
				o.Exclude = append(o.Exclude, f.Name)
			} else {
				o.Include = append(o.Include, f.Name)
			}
		}
	}
	return o
}

// ignoreTestFailures says whether failed tests after action leave the release Ready: the
// action's remediation.ignoreTestFailures, else spec.test.ignoreFailures.
func ignoreTestFailures(obj *helmv1.HelmRelease, action helmv1.ReleaseAction) bool {
	var override *bool
	if action == helmv1.ReleaseActionInstall && obj.Spec.Install != nil && obj.Spec.Install.Remediation != nil {
		override = obj.Spec.Install.Remediation.IgnoreTestFailures
	}
	if action == helmv1.ReleaseActionUpgrade && obj.Spec.Upgrade != nil && obj.Spec.Upgrade.Remediation != nil {
		override = obj.Spec.Upgrade.Remediation.IgnoreTestFailures
	}
	if override != nil {
		return *override
	}
	return obj.Spec.Test != nil && obj.Spec.Test.IgnoreFailures
}

// reconcileTests runs the selected tests of the newest revision, made by action, and sets
// TestSuccess (True when they pass, False with TestFailed when one fails), with an event.
// Failed tests that are not ignored count as a failure of action: it is remediated and
// retried like a failed install or upgrade (see release), and the outcome is TestFailed.
func (r *HelmReleaseReconciler) reconcileTests(ctx context.Context, sc *hrScope, runner *release.Runner, action helmv1.ReleaseAction) error {
	obj := sc.obj
	rel, err := runner.Test(testOptions(obj))
	r.refreshHistory(ctx, obj, runner, sc, false)
	ref := releaseRef(runner)
	if err == nil {
		names := testNames(rel, testOptions(obj))
		msg := fmt.Sprintf("Helm test succeeded for release %s.v%d", ref, rel.Version)
		if len(names) > 0 {
			msg += " with tests: " + strings.Join(names, ", ")
		} else {
			msg += ": the chart has no tests"
		}
		conditions.MarkTrue(obj, helmv1.TestSuccessCondition, helmv1.TestSucceededReason, "%s", msg)
		r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeNormal, helmv1.TestSucceededReason, "test", "%s", msg)
		return nil
	}
	version := 0
	if rel != nil {
		version = rel.Version
	}
	err = fmt.Errorf("Helm test failed for release %s.v%d: %w", ref, version, err)
	conditions.MarkFalse(obj, helmv1.TestSuccessCondition, helmv1.TestFailedReason, "%s", err)
	if ignoreTestFailures(obj, action) {
		r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeWarning, helmv1.TestFailedReason, "test",
			"%s (ignored)", err)
		return nil
	}
	return r.failed(ctx, sc, runner, action, helmv1.TestFailedReason, err)
}

// testNames lists the names of the selected tests of rel, sorted.
func testNames(rel *helmrelease.Release, o release.TestOptions) []string {
	var names []string
	if rel == nil {
		return nil
	}
	for _, h := range release.TestHooks(rel, o) {
		names = append(names, h.Name)
	}
	sort.Strings(names)
	return names
}

// testHookStatuses are the last runs of rel's test hooks, by name; nil when none ran.
func testHookStatuses(rel *helmrelease.Release) *map[string]*helmv1.TestHookStatus {
	var out map[string]*helmv1.TestHookStatus
	for _, h := range release.TestHooks(rel, release.TestOptions{}) {
		if h.LastRun.Phase == "" || h.LastRun.Phase == helmrelease.HookPhaseUnknown {
			continue
		}
		if out == nil {
			out = map[string]*helmv1.TestHookStatus{}
		}
		st := &helmv1.TestHookStatus{Phase: string(h.LastRun.Phase)}
		if !h.LastRun.StartedAt.IsZero() {
			st.LastStarted = metav1.NewTime(h.LastRun.StartedAt.Time)
		}
		if !h.LastRun.CompletedAt.IsZero() {
			st.LastCompleted = metav1.NewTime(h.LastRun.CompletedAt.Time)
		}
		out[h.Name] = st
	}
	if out == nil {
		return nil
	}
	return &out
}

// testsStallError is the stall of an in-sync release whose tests failed and were not
// remediated: it waits for a new desired state.
func testsStallError(obj *helmv1.HelmRelease, runner *release.Runner) error {
	msg := fmt.Sprintf("the tests of release %s failed", releaseRef(runner))
	if c := conditions.Get(obj, helmv1.TestSuccessCondition); c != nil && c.Status == metav1.ConditionFalse {
		msg = c.Message
	}
	return steps.Stalled(helmv1.TestFailedReason, fmt.Errorf("%s; change the spec, chart or values to retry", msg))
}
