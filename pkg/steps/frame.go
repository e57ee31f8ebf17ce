package steps

import (
	"context"
	"errors"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"weir.dev/api/meta"
	"weir.dev/pkg/metrics"
)

// Object is a Weir object the frame reconciles: it has conditions, an interval, spec.suspend,
// status.observedGeneration and the echo of the reconcile-request annotation. Every Weir API
// type with a reconciler implements it.
type Object interface {
	client.Object
	conditions.Setter
	GetRequeueAfter() metav1.Duration
	IsSuspended() bool
	GetObservedGeneration() int64
	SetObservedGeneration(int64)
	GetReconcileRequestStatus() *meta.ReconcileRequestStatus
}

// IntervalPolicy raises an interval to the controller's floor and spreads periodic requeues
// (app.Intervals; a nil *app.Intervals does neither).
type IntervalPolicy interface {
	Floor(obj client.Object, field string, d time.Duration) time.Duration
	Periodic(d time.Duration) time.Duration
}

// Frame is the reconcile every Weir kind shares: read the object, handle its deletion, add the
// finalizer, echo the reconcile request, honour suspend, show a new generation as Reconciling
// at once, run the kind's steps, and then, in one place, summarise the outcome, record
// observedGeneration, patch the status, record the outcome's events and decide the requeue.
type Frame[O Object] struct {
	// Reader reads the object; the manager's cached client unless the kind needs fresher state.
	Reader client.Reader
	// Client patches it.
	Client client.Client
	// FieldOwner is the field manager of the patches (the controller's name).
	FieldOwner string
	// OwnedConditions are the condition types the controller alone writes for the kind.
	OwnedConditions []string
	// NoFinalizer is for kinds that hold nothing outside their own object: the frame adds no
	// finalizer, and a deleted object is left alone.
	NoFinalizer bool
	// RunWhileSuspended is for kinds whose spec.suspend stops what they serve (e.g. event
	// delivery) but not their checks: the steps run as usual.
	RunWhileSuspended bool
	// Recorder records the outcome's events: a warning for a stall or a transient failure,
	// and the announcement (Hooks.Announce). Nil records none.
	Recorder events.AnnotatedEventRecorder
	// Intervals floors spec.interval (GetRequeueAfter) and jitters the periodic requeue; nil
	// for neither.
	Intervals IntervalPolicy
	// Backoff paces transient retries (Backoff.Retry) when set; without it the error goes to
	// controller-runtime's rate limiter as it is.
	Backoff *Backoff
	// RetryInterval, when set, bounds the backoff of a transient retry: the field it comes
	// from and its value, floored like spec.interval. Unset: the interval bounds it.
	RetryInterval func(O) (field string, d time.Duration)
	// RequeueStalled, when set and true for a stall, comes back after the interval (jittered)
	// instead of waiting for a change to the object, e.g. to notice a fixed Secret.
	RequeueStalled func(Outcome) bool
}

// Hooks are what one reconcile of a Frame's kind does.
type Hooks[O Object] struct {
	// Finalize releases what the object holds before its finalizer is removed; an error
	// keeps the finalizer and is retried. Nil means nothing to release.
	Finalize func(ctx context.Context, obj O) error
	// Steps does the kind's work on the object read.
	Steps func(ctx context.Context) error
	// Summarize presents the outcome in the object's status before the patch.
	Summarize func(o Outcome)
	// Metadata is the outcome events' metadata (e.g. the revision); nil for none.
	Metadata func() map[string]string
	// Announce returns the reason and message of the Normal event recorded after the patch,
	// e.g. what a success changed; an empty message records none. wasReady is whether the
	// object was Ready before this reconcile. Nil announces nothing (see BecameReady).
	Announce func(o Outcome, wasReady bool) (reason, message string)
	// LogValues are what the log line of a transient retry adds (e.g. the revision).
	LogValues func() []any
	// Requeue adjusts the result of a successful patch and a non-transient outcome, e.g. to
	// come back sooner when a sync window opens.
	Requeue func(ctrl.Result) ctrl.Result
}

// BecameReady announces a success that made obj Ready, with Ready's reason and message: for
// kinds with nothing else to say.
func BecameReady(obj conditions.Getter) func(Outcome, bool) (string, string) {
	return func(o Outcome, wasReady bool) (string, string) {
		if o.Kind != Succeeded || wasReady {
			return "", ""
		}
		return conditions.GetReason(obj, meta.ReadyCondition), conditions.GetMessage(obj, meta.ReadyCondition)
	}
}

// Reconcile reconciles the object called req into obj (an empty object of the kind).
func (f Frame[O]) Reconcile(ctx context.Context, req ctrl.Request, obj O, run Hooks[O]) (result ctrl.Result, retErr error) {
	defer metrics.ObserveReconcile(ctx, req, obj, time.Now(), &retErr)
	if err := f.Reader.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patcher := newStatusPatcher(obj, f.Reader, f.Client, f.FieldOwner, f.OwnedConditions)

	if !obj.GetDeletionTimestamp().IsZero() {
		if f.NoFinalizer || !controllerutil.ContainsFinalizer(obj, meta.Finalizer) && !controllerutil.ContainsFinalizer(obj, meta.LegacyFinalizer) {
			return ctrl.Result{}, nil
		}
		if run.Finalize != nil {
			if err := run.Finalize(ctx, obj); err != nil {
				return ctrl.Result{}, err
			}
		}
		controllerutil.RemoveFinalizer(obj, meta.Finalizer)
		controllerutil.RemoveFinalizer(obj, meta.LegacyFinalizer)
		return ctrl.Result{}, client.IgnoreNotFound(patcher.Patch(ctx, obj))
	}
	// An object from before the rename trades the old finalizer for the new one in one patch.
	if !f.NoFinalizer && (controllerutil.RemoveFinalizer(obj, meta.LegacyFinalizer) || !controllerutil.ContainsFinalizer(obj, meta.Finalizer)) {
		controllerutil.AddFinalizer(obj, meta.Finalizer)
		if err := patcher.Patch(ctx, obj); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	wasReady := conditions.IsReady(obj)
	if token, ok := meta.ReconcileAnnotationValue(obj.GetAnnotations()); ok {
		obj.GetReconcileRequestStatus().SetLastHandledReconcileRequest(token)
	}
	if obj.IsSuspended() && !f.RunWhileSuspended {
		// Conditions stay as they were but for Reconciling: nothing is in progress.
		conditions.Delete(obj, meta.ReconcilingCondition)
		return ctrl.Result{}, client.IgnoreNotFound(f.patch(ctx, obj, patcher, true))
	}
	// A new generation shows as in progress at once; a retry of the same one already does.
	if obj.GetGeneration() != obj.GetObservedGeneration() &&
		conditions.GetObservedGeneration(obj, meta.ReconcilingCondition) != obj.GetGeneration() {
		conditions.MarkReconciling(obj, meta.ProgressingReason, "reconciling new generation %d", obj.GetGeneration())
		if !conditions.Has(obj, meta.ReadyCondition) {
			// kstatus: Ready is always there; a first reconcile's is Unknown until it ends.
			conditions.MarkUnknown(obj, meta.ReadyCondition, meta.ProgressingReason, "reconciling new generation %d", obj.GetGeneration())
		}
		if err := f.patch(ctx, obj, patcher, false); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}

	defer func() {
		outcome := Classify(retErr, meta.FailedReason)
		run.Summarize(outcome)
		LogStalled(ctx, outcome)
		if err := f.patch(ctx, obj, patcher, outcome.IsObservation()); err != nil {
			if apierrors.IsNotFound(err) {
				result, retErr = ctrl.Result{}, nil
				return
			}
			// The outcome's own error, if any, is kept: the log says both.
			result, retErr = ctrl.Result{}, errors.Join(outcome.Err, err)
			return
		}
		f.record(obj, run, outcome, wasReady)
		result, retErr = f.result(ctx, req, obj, run, outcome)
		// End of a reconcile that ran its steps and wrote its outcome: the place for an
		// end-of-reconcile hook (e.g. metrics of the outcome and result).
	}()
	ctx = context.WithValue(ctx, patchNowKey{}, func(ctx context.Context) error { return f.patch(ctx, obj, patcher, false) })
	return ctrl.Result{}, run.Steps(ctx)
}

// record records the outcome's events: a warning for a stall or a transient failure, and the
// kind's announcement.
func (f Frame[O]) record(obj O, run Hooks[O], o Outcome, wasReady bool) {
	if f.Recorder == nil {
		return
	}
	var metadata map[string]string
	if run.Metadata != nil {
		metadata = run.Metadata()
	}
	Event(f.Recorder, obj, o, metadata)
	if run.Announce == nil {
		return
	}
	if reason, msg := run.Announce(o, wasReady); msg != "" {
		f.Recorder.AnnotatedEventf(obj, nil, metadata, corev1.EventTypeNormal, reason, ActionReconcile, "%s", msg)
	}
}

// result is Result with the run's hooks: a transient failure goes through the Backoff, which
// logs it, and the run adjusts any other result.
func (f Frame[O]) result(ctx context.Context, req ctrl.Request, obj O, run Hooks[O], o Outcome) (ctrl.Result, error) {
	if o.Kind == Transient && f.Backoff != nil {
		var kv []any
		if run.LogValues != nil {
			kv = run.LogValues()
		}
		return f.Backoff.Retry(ctx, req, o, f.RetryBound(obj), kv...)
	}
	res, err := f.Result(obj, o)
	if err == nil && run.Requeue != nil {
		res = run.Requeue(res)
	}
	return res, err
}

// Result is when to come back after o: after the interval (floored, jittered) on success,
// after the wait while waiting, never while stalled unless RequeueStalled says so; a
// transient failure returns its error, for backoff.
func (f Frame[O]) Result(obj O, o Outcome) (ctrl.Result, error) {
	interval := f.floor(obj, "spec.interval", obj.GetRequeueAfter().Duration)
	switch o.Kind {
	case Transient:
		return ctrl.Result{}, o.Err
	case Succeeded:
		return ctrl.Result{RequeueAfter: f.periodic(interval)}, nil
	case Waits:
		return ctrl.Result{RequeueAfter: o.RequeueAfter}, nil
	}
	if f.RequeueStalled != nil && f.RequeueStalled(o) {
		return ctrl.Result{RequeueAfter: f.periodic(interval)}, nil
	}
	return ctrl.Result{}, nil
}

// RetryBound is the longest backoff wait before a transient failure is retried: the
// RetryInterval option, or else the interval, floored.
func (f Frame[O]) RetryBound(obj O) time.Duration {
	if f.RetryInterval != nil {
		field, d := f.RetryInterval(obj)
		return f.floor(obj, field, d)
	}
	return f.floor(obj, "spec.interval", obj.GetRequeueAfter().Duration)
}

func (f Frame[O]) floor(obj O, field string, d time.Duration) time.Duration {
	if f.Intervals == nil {
		return d
	}
	return f.Intervals.Floor(obj, field, d)
}

func (f Frame[O]) periodic(d time.Duration) time.Duration {
	if f.Intervals == nil {
		return d
	}
	return f.Intervals.Periodic(d)
}

type patchNowKey struct{}

// PatchNow writes the object a Frame's steps work on, status and metadata as they are now
// (the status in one request, so it is consistent in itself), before the run ends: for a step about to wait long to say so (with the reconcile request
// already recorded as handled). It goes through the frame's own patcher, so the final patch
// still writes every change from this state on. Not for concurrent use with the steps'
// changes to the object. It does nothing outside a Frame's steps.
func PatchNow(ctx context.Context) error {
	if patch, ok := ctx.Value(patchNowKey{}).(func(context.Context) error); ok {
		return patch(ctx)
	}
	return nil
}

// patch writes obj's metadata and then its whole status, in one request each (see
// statusPatcher); observed advances status.observedGeneration in that same status write.
func (f Frame[O]) patch(ctx context.Context, obj O, patcher *statusPatcher, observed bool) error {
	if observed {
		obj.SetObservedGeneration(obj.GetGeneration())
	}
	return patcher.Patch(ctx, obj)
}
