package app

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	corev1 "k8s.io/api/core/v1"

	"weir.dev/pkg/steps"
)

func seeded(min time.Duration, percent uint8) *Intervals {
	return newIntervals(min, percent, rand.NewSource(1).(rand.Source64), funcr.New(func(string, string) {}, funcr.Options{}), nil)
}

func TestFloor(t *testing.T) {
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cm", UID: "u1"}}
	cases := []struct {
		name string
		iv   *Intervals
		d    time.Duration
		want time.Duration
	}{
		{name: "below the floor", iv: seeded(30*time.Second, 5), d: time.Millisecond, want: 30 * time.Second},
		{name: "zero", iv: seeded(30*time.Second, 5), d: 0, want: 30 * time.Second},
		{name: "at the floor", iv: seeded(30*time.Second, 5), d: 30 * time.Second, want: 30 * time.Second},
		{name: "above the floor", iv: seeded(30*time.Second, 5), d: 10 * time.Minute, want: 10 * time.Minute},
		{name: "no floor", iv: seeded(0, 5), d: time.Millisecond, want: time.Millisecond},
		{name: "no policy", iv: nil, d: time.Millisecond, want: time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.iv.Floor(obj, "spec.interval", tc.d); got != tc.want {
				t.Errorf("Floor(%s) = %s, want %s", tc.d, got, tc.want)
			}
		})
	}
}

// TestFloorAnnouncesOncePerChange: a raised interval is announced, with the object's name in
// the log line and the field, value and floor in the event, once per object, field and value,
// however often the object is reconciled.
func TestFloorAnnouncesOncePerChange(t *testing.T) {
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})
	rec := events.NewFakeRecorder(100)
	iv := newIntervals(30*time.Second, 5, rand.NewSource(1).(rand.Source64), log, rec)
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "fast", UID: "u1"}}
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "other", UID: "u2"}}

	steps := []struct {
		obj   *corev1.ConfigMap
		field string
		d     time.Duration
		event string // "" when none is expected
	}{
		{obj, "spec.interval", time.Millisecond, "Warning IntervalBelowFloor spec.interval 1ms is below the controller's floor --min-interval=30s; reconciling every 30s"},
		{obj, "spec.interval", time.Millisecond, ""},
		{obj, "spec.interval", time.Millisecond, ""},
		{other, "spec.interval", time.Millisecond, "Warning IntervalBelowFloor spec.interval 1ms is below the controller's floor --min-interval=30s; reconciling every 30s"},
		{obj, "spec.retryInterval", time.Second, "Warning IntervalBelowFloor spec.retryInterval 1s is below the controller's floor --min-interval=30s; retrying every 30s"},
		{obj, "spec.interval", 2 * time.Second, "Warning IntervalBelowFloor spec.interval 2s is below the controller's floor --min-interval=30s; reconciling every 30s"},
		{obj, "spec.interval", time.Minute, ""},
		// Fixed, then broken again: a change, announced again.
		{obj, "spec.interval", 2 * time.Second, "Warning IntervalBelowFloor spec.interval 2s is below the controller's floor --min-interval=30s; reconciling every 30s"},
	}
	for i, s := range steps {
		iv.Floor(s.obj, s.field, s.d)
		var got string
		select {
		case got = <-rec.Events:
		default:
		}
		if got != s.event {
			t.Errorf("step %d (%s %s=%s): event %q, want %q", i, s.obj.Name, s.field, s.d, got, s.event)
		}
	}
	if len(lines) != 5 {
		t.Fatalf("%d log lines, want 5 (one per announcement):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, want := range []string{`"kind"="ConfigMap"`, `"namespace"="team-a"`, `"name"="fast"`, `spec.interval 1ms is below`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %s lacks %s", lines[0], want)
		}
	}
}

// TestPeriodicBounds: a periodic requeue stays within ±the jitter of the interval and never
// goes below the floor, and it is spread over the whole range, near the floor too.
func TestPeriodicBounds(t *testing.T) {
	const floor = 30 * time.Second
	cases := []struct {
		name    string
		d       time.Duration
		lo, hi  time.Duration
		uniform bool // spread evenly over [lo, hi]
	}{
		{name: "well above the floor", d: 10 * time.Minute, lo: 9 * time.Minute, hi: 11 * time.Minute, uniform: true},
		{name: "at the floor", d: floor, lo: floor, hi: 33 * time.Second, uniform: true},
		{name: "below the floor", d: time.Millisecond, lo: floor, hi: 33 * time.Second, uniform: true},
		{name: "just above the floor", d: 31 * time.Second, lo: floor, hi: 34100 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			iv := seeded(floor, 10)
			const n, buckets = 20000, 10
			counts := make([]int, buckets)
			least, most := tc.hi, tc.lo
			for range n {
				got := iv.Periodic(tc.d)
				if got < tc.lo || got > tc.hi {
					t.Fatalf("Periodic(%s) = %s, outside [%s, %s]", tc.d, got, tc.lo, tc.hi)
				}
				least, most = min(least, got), max(most, got)
				b := int(float64(got-tc.lo) / float64(tc.hi-tc.lo) * buckets)
				counts[min(b, buckets-1)]++
			}
			// Spread: the samples reach both ends of the range, within 1% of it.
			slack := (tc.hi - tc.lo) / 100
			if least > tc.lo+slack || most < tc.hi-slack {
				t.Errorf("samples span [%s, %s], want about [%s, %s]", least, most, tc.lo, tc.hi)
			}
			for i, c := range counts {
				if c == 0 {
					t.Errorf("no sample in bucket %d of %d: %v", i, buckets, counts)
				}
				if tc.uniform && (c < n/buckets*8/10 || c > n/buckets*12/10) {
					t.Errorf("bucket %d holds %d of %d samples, want about %d: %v", i, c, n, n/buckets, counts)
				}
			}
		})
	}
}

func TestPeriodicWithoutJitter(t *testing.T) {
	iv := seeded(30*time.Second, 0)
	for _, d := range []time.Duration{30 * time.Second, time.Minute, 10 * time.Hour} {
		for range 100 {
			if got := iv.Periodic(d); got != d {
				t.Fatalf("Periodic(%s) = %s without jitter", d, got)
			}
		}
	}
	if got := iv.Periodic(time.Millisecond); got != 30*time.Second {
		t.Errorf("Periodic(1ms) = %s, want the floor", got)
	}
	var none *Intervals
	if got := none.Periodic(time.Millisecond); got != time.Millisecond {
		t.Errorf("nil policy: Periodic(1ms) = %s", got)
	}
}

// TestResult: only a success is jittered; a wait keeps its delay and a transient error its
// backoff.
func TestResult(t *testing.T) {
	iv := seeded(30*time.Second, 10)
	boom := errors.New("boom")
	for range 100 {
		res, err := iv.Result(steps.Outcome{Kind: steps.Succeeded}, time.Minute)
		if err != nil || res.RequeueAfter < 54*time.Second || res.RequeueAfter > 66*time.Second {
			t.Fatalf("success: %+v, %v", res, err)
		}
	}
	if res, err := iv.Result(steps.Outcome{Kind: steps.Waits, RequeueAfter: 10 * time.Second, Err: boom}, time.Minute); err != nil || res != (ctrl.Result{RequeueAfter: 10 * time.Second}) {
		t.Errorf("wait: %+v, %v", res, err)
	}
	if res, err := iv.Result(steps.Outcome{Kind: steps.Transient, Err: boom}, time.Minute); err != boom || !res.IsZero() {
		t.Errorf("transient: %+v, %v", res, err)
	}
	if res, err := iv.Result(steps.Outcome{Kind: steps.Stalling, Err: boom}, time.Minute); err != nil || !res.IsZero() {
		t.Errorf("stalled: %+v, %v", res, err)
	}
}
