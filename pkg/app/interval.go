package app

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/pkg/runtime/jitter"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/pkg/steps"
)

// DefaultMinInterval is the default of --min-interval. 30s is the shortest interval the usual
// GitOps manifests and getting-started guides set (the podinfo examples' `interval: 30s`), so
// they keep their schedule; it stops `interval: 1ms` from reconciling an object (a clone, a
// build, a dry run, an index download) a thousand times a second, and bounds each object to two
// periodic reconciles a minute. Watches and reconcile requests still act at once.
const DefaultMinInterval = 30 * time.Second

// IntervalBelowFloorReason is the reason of the warning event that says an object's interval
// was raised to --min-interval.
const IntervalBelowFloorReason = "IntervalBelowFloor"

// maxRaised bounds the objects an Intervals remembers having announced: past it, it forgets
// them all and announces each again at its next reconcile (entries of deleted objects stay
// until then).
const maxRaised = 10000

// Intervals is a controller's policy for the requeues that a duration in an object's spec
// drives (spec.interval, spec.retryInterval): Floor raises the duration to --min-interval and
// says so, once per object, field and value; Periodic spreads a periodic requeue by
// --interval-jitter-percentage so that objects created together do not reconcile in lockstep.
// A nil *Intervals has no floor and no jitter. It is safe for concurrent reconciles.
type Intervals struct {
	// min is --min-interval; 0 means no floor.
	min    time.Duration
	jitter jitter.Duration
	log    logr.Logger
	rec    events.EventRecorder

	mu sync.Mutex
	// raised is, per object and field, the duration last announced as raised.
	raised map[raisedKey]time.Duration
}

type raisedKey struct {
	uid   types.UID
	field string
}

// NewIntervals returns the policy of a floor min and a jitter of ±jitterPercent percent (below
// 100); log and rec (nil for none) announce the objects whose interval is raised.
func NewIntervals(min time.Duration, jitterPercent uint8, log logr.Logger, rec events.EventRecorder) *Intervals {
	return newIntervals(min, jitterPercent, rand.NewSource(time.Now().UnixNano()).(rand.Source64), log, rec)
}

func newIntervals(min time.Duration, jitterPercent uint8, src rand.Source64, log logr.Logger, rec events.EventRecorder) *Intervals {
	// jitter.Percent draws from its *rand.Rand on every call, and reconciles run concurrently:
	// a math/rand source is not safe for that, so the Rand reads a locked one. (Flux's global
	// jitter, SetGlobalIntervalJitter, shares one unlocked Rand.)
	j := jitter.Percent(float64(jitterPercent)/100, rand.New(&lockedSource{src: src}))
	return &Intervals{min: min, jitter: j, log: log, rec: rec, raised: map[raisedKey]time.Duration{}}
}

// Min returns the floor; 0 when there is none.
func (iv *Intervals) Min() time.Duration {
	if iv == nil {
		return 0
	}
	return iv.min
}

// Floor returns d, the duration obj's field asks for, raised to the floor. The first time it
// raises a given value for obj and field, it logs a line naming the object and records a
// warning event (IntervalBelowFloor) on obj saying so, e.g. "spec.interval 1ms is below the
// controller's floor --min-interval=30s; reconciling every 30s".
func (iv *Intervals) Floor(obj client.Object, field string, d time.Duration) time.Duration {
	if iv == nil || d >= iv.min {
		if iv != nil {
			iv.forget(raisedKey{obj.GetUID(), field})
		}
		return d
	}
	if iv.firstRaise(raisedKey{obj.GetUID(), field}, d) {
		verb := "reconciling"
		if strings.HasSuffix(field, "retryInterval") {
			verb = "retrying"
		}
		msg := fmt.Sprintf("%s %s is below the controller's floor --min-interval=%s; %s every %s", field, d, iv.min, verb, iv.min)
		iv.log.Info(msg, "kind", kindOf(obj), "namespace", obj.GetNamespace(), "name", obj.GetName())
		if iv.rec != nil {
			iv.rec.Eventf(obj, nil, corev1.EventTypeWarning, IntervalBelowFloorReason, steps.ActionReconcile, "%s", msg)
		}
	}
	return iv.min
}

// Periodic returns when to come back for a periodic requeue after interval d: d spread
// uniformly by ±the jitter percentage, but never below the floor. A value the jitter puts
// below the floor is mirrored above it, so objects at the floor spread over
// [floor, floor×(1+jitter)] instead of piling up on the floor itself.
func (iv *Intervals) Periodic(d time.Duration) time.Duration {
	if iv == nil {
		return d
	}
	d = max(d, iv.min)
	j := iv.jitter(d)
	if j < iv.min {
		j = 2*iv.min - j
	}
	return j
}

// Result is steps.Result with the policy: a success comes back after Periodic(interval); a
// wait, a stall and a transient error are left as steps.Result has them (no jitter on error
// backoff). interval should already have been through Floor, which announces it.
func (iv *Intervals) Result(o steps.Outcome, interval time.Duration) (ctrl.Result, error) {
	if o.Kind == steps.Succeeded {
		interval = iv.Periodic(interval)
	}
	return steps.Result(o, interval)
}

// firstRaise records that key's duration d is raised and reports whether it was not already.
func (iv *Intervals) firstRaise(key raisedKey, d time.Duration) bool {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if last, ok := iv.raised[key]; ok && last == d {
		return false
	}
	if len(iv.raised) >= maxRaised {
		clear(iv.raised)
	}
	iv.raised[key] = d
	return true
}

func (iv *Intervals) forget(key raisedKey) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	delete(iv.raised, key)
}

// kindOf names obj's kind for a log line: its Go type's name (typed objects read through a
// client carry no TypeMeta).
func kindOf(obj client.Object) string {
	if k := obj.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	t := reflect.TypeOf(obj)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// lockedSource is a math/rand source safe for concurrent use.
type lockedSource struct {
	mu  sync.Mutex
	src rand.Source64
}

func (s *lockedSource) Int63() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src.Int63()
}

func (s *lockedSource) Uint64() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src.Uint64()
}

func (s *lockedSource) Seed(seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.src.Seed(seed)
}
