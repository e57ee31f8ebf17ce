package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/app"
	"weir.dev/pkg/steps"
)

// TestResultFloor: spec.interval is raised to --min-interval and jittered on success and while
// stalled; a transient failure keeps its backoff and a dependency wait the controller's delay.
func TestResultFloor(t *testing.T) {
	iv := app.NewIntervals(30*time.Second, 10, logr.Discard(), nil)
	hr := func(d time.Duration) *helmv1.HelmRelease {
		return &helmv1.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "app", UID: "u"}, Spec: helmv1.HelmReleaseSpec{Interval: metav1.Duration{Duration: d}}}
	}
	stalled := steps.Classify(steps.Stalled(helmv1.InstallFailedReason, errors.New("boom")), meta.FailedReason)
	waiting := steps.Classify(steps.Waiting(meta.DependencyNotReadyReason, 10*time.Second, errors.New("chart not ready")), "")
	for _, tc := range []struct {
		name   string
		iv     *app.Intervals
		obj    *helmv1.HelmRelease
		o      steps.Outcome
		lo, hi time.Duration
	}{
		{"success below the floor", iv, hr(time.Millisecond), steps.Outcome{}, 30 * time.Second, 33 * time.Second},
		{"success above the floor", iv, hr(10 * time.Minute), steps.Outcome{}, 9 * time.Minute, 11 * time.Minute},
		{"stalled below the floor", iv, hr(time.Millisecond), stalled, 30 * time.Second, 33 * time.Second},
		{"dependency wait", iv, hr(time.Millisecond), waiting, 10 * time.Second, 10 * time.Second},
		{"no policy", nil, hr(time.Millisecond), steps.Outcome{}, time.Millisecond, time.Millisecond},
	} {
		for range 50 {
			res, err := (&HelmReleaseReconciler{Intervals: tc.iv}).frame().Result(tc.obj, tc.o)
			if err != nil || res.RequeueAfter < tc.lo || res.RequeueAfter > tc.hi {
				t.Fatalf("%s: %+v, %v; want RequeueAfter within [%s, %s]", tc.name, res, err, tc.lo, tc.hi)
			}
		}
	}
	transient := errors.New("conflict")
	if res, err := (&HelmReleaseReconciler{Intervals: iv}).frame().Result(hr(time.Millisecond), steps.Classify(transient, meta.FailedReason)); !errors.Is(err, transient) || !res.IsZero() {
		t.Fatalf("a transient error is returned for backoff, got %+v, %v", res, err)
	}
}

// TestRetryOnFailureFloor: strategy RetryOnFailure waits spec.install.strategy.retryInterval,
// raised to --min-interval, between attempts.
func TestRetryOnFailureFloor(t *testing.T) {
	r := &HelmReleaseReconciler{Intervals: app.NewIntervals(30*time.Second, 10, logr.Discard(), nil)}
	for _, tc := range []struct {
		retry *metav1.Duration
		want  time.Duration
	}{
		{&metav1.Duration{Duration: time.Millisecond}, 30 * time.Second},
		{nil, 30 * time.Second}, // spec.interval, 1ms
		{&metav1.Duration{Duration: 2 * time.Minute}, 2 * time.Minute},
	} {
		obj := &helmv1.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "app", UID: "u"}, Spec: helmv1.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Millisecond},
			Install:  &helmv1.Install{Strategy: &helmv1.ActionStrategy{Name: helmv1.ActionStrategyRetryOnFailure, RetryInterval: tc.retry}},
		}}
		err := r.failed(context.Background(), &hrScope{obj: obj}, nil, helmv1.ReleaseActionInstall, helmv1.InstallFailedReason, errors.New("boom"))
		if o := steps.Classify(err, ""); o.Kind != steps.Waits || o.RequeueAfter != tc.want {
			t.Errorf("retryInterval %v: %+v, want a wait of %s", tc.retry, o, tc.want)
		}
	}
}
