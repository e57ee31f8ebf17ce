package controller

import (
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/app"
	"weir.dev/pkg/steps"
)

// TestKustomizationResultFloor: spec.interval and spec.retryInterval (the bound of the retry
// backoff) are raised to --min-interval; only the success requeue is jittered; a dependency wait
// (the controller's own delay) is left alone; a transient failure is returned as an error, for
// the backoff.
func TestKustomizationResultFloor(t *testing.T) {
	iv := app.NewIntervals(30*time.Second, 10, logr.Discard(), nil)
	ks := func(interval time.Duration, retry *time.Duration) *kustomizev1.Kustomization {
		obj := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "app", UID: "u"}}
		obj.Spec.Interval = metav1.Duration{Duration: interval}
		if retry != nil {
			obj.Spec.RetryInterval = &metav1.Duration{Duration: *retry}
		}
		return obj
	}
	ms, twoMin := time.Millisecond, 2*time.Minute
	transient := steps.Classify(errors.New("apply failed"), meta.FailedReason)
	waiting := steps.Classify(steps.Waiting(meta.DependencyNotReadyReason, 10*time.Second, errors.New("source not ready")), "")
	cases := []struct {
		name   string
		iv     *app.Intervals
		obj    *kustomizev1.Kustomization
		o      steps.Outcome
		lo, hi time.Duration
	}{
		{name: "success below the floor", iv: iv, obj: ks(ms, nil), lo: 30 * time.Second, hi: 33 * time.Second},
		{name: "success above the floor", iv: iv, obj: ks(10*time.Minute, nil), lo: 9 * time.Minute, hi: 11 * time.Minute},
		{name: "dependency wait", iv: iv, obj: ks(ms, nil), o: waiting, lo: 10 * time.Second, hi: 10 * time.Second},
		{name: "no policy", iv: nil, obj: ks(ms, nil), lo: ms, hi: ms},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				res, err := (&KustomizationReconciler{Intervals: tc.iv}).frame().Result(tc.obj, tc.o)
				if err != nil {
					t.Fatal(err)
				}
				if res.RequeueAfter < tc.lo || res.RequeueAfter > tc.hi {
					t.Fatalf("RequeueAfter %s, want within [%s, %s]", res.RequeueAfter, tc.lo, tc.hi)
				}
			}
		})
	}
	if _, err := (&KustomizationReconciler{Intervals: iv}).frame().Result(ks(ms, nil), transient); err == nil {
		t.Error("transient failure: no error for the backoff")
	}
	for _, tc := range []struct {
		name string
		obj  *kustomizev1.Kustomization
		want time.Duration
	}{
		{"retry below the floor", ks(time.Hour, &ms), 30 * time.Second},
		{"retry defaulting to an interval below the floor", ks(ms, nil), 30 * time.Second},
		{"retry above the floor", ks(time.Hour, &twoMin), twoMin},
	} {
		if got := (&KustomizationReconciler{Intervals: iv}).frame().RetryBound(tc.obj); got != tc.want {
			t.Errorf("%s: retry bound %s, want %s", tc.name, got, tc.want)
		}
	}
	if res, err := (&KustomizationReconciler{Intervals: iv}).frame().Result(ks(ms, nil), steps.Classify(steps.Stalled(meta.InvalidSpecReason, errors.New("bad")), "")); err != nil || !res.IsZero() {
		t.Errorf("stalled: %+v, %v", res, err)
	}
}
