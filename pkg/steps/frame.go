package steps

import (
	"context"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/patch"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"weir.dev/api/meta"
	"weir.dev/pkg/metrics"
)

// Object is a Weir object the frame reconciles: it has conditions and an interval.
type Object interface {
	client.Object
	conditions.Setter
	GetRequeueAfter() metav1.Duration
}

// Frame is the reconcile every Weir kind with a finalizer shares: read the object, handle its
// deletion, add the finalizer, echo the reconcile request, honour suspend, show a new
// generation as Reconciling at once, run the kind's steps, and then, in one place, summarise
// the outcome, record it and patch the status.
type Frame[O Object] struct {
	// Reader reads the object; the manager's cached client unless the kind needs fresher state.
	Reader client.Reader
	// Client patches it.
	Client client.Client
	// FieldOwner is the field manager of the patches (the controller's name).
	FieldOwner string
	// OwnedConditions are the condition types the controller alone writes for the kind.
	OwnedConditions []string
	// Suspended reports spec.suspend.
	Suspended func(O) bool
	// Status returns status.observedGeneration and the reconcile-request status to echo into.
	Status func(O) (observedGeneration int64, requests *meta.ReconcileRequestStatus)
}

// Hooks are what one reconcile of a Frame's kind does.
type Hooks[O Object] struct {
	// Finalize releases what the object holds before its finalizer is removed; an error
	// keeps the finalizer and is retried. Nil means nothing to release.
	Finalize func(ctx context.Context, obj O) error
	// Steps does the kind's work on the object read.
	Steps func(ctx context.Context) error
	// Summarize presents the outcome in the object's status (and records events) before the
	// patch.
	Summarize func(o Outcome)
	// Result is what controller-runtime does after a patched outcome; nil means Result with
	// the object's interval.
	Result func(o Outcome) (ctrl.Result, error)
}

// Reconcile reconciles the object called req into obj (an empty object of the kind).
func (f Frame[O]) Reconcile(ctx context.Context, req ctrl.Request, obj O, run Hooks[O]) (result ctrl.Result, retErr error) {
	defer metrics.ObserveReconcile(ctx, req, obj, time.Now(), &retErr)
	if err := f.Reader.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patcher := patch.NewSerialPatcher(obj, f.Client)

	if !obj.GetDeletionTimestamp().IsZero() {
		if !controllerutil.ContainsFinalizer(obj, meta.Finalizer) && !controllerutil.ContainsFinalizer(obj, meta.LegacyFinalizer) {
			return ctrl.Result{}, nil
		}
		if run.Finalize != nil {
			if err := run.Finalize(ctx, obj); err != nil {
				return ctrl.Result{}, err
			}
		}
		controllerutil.RemoveFinalizer(obj, meta.Finalizer)
		controllerutil.RemoveFinalizer(obj, meta.LegacyFinalizer)
		return ctrl.Result{}, client.IgnoreNotFound(patcher.Patch(ctx, obj, patch.WithFieldOwner(f.FieldOwner)))
	}
	// An object from before the rename trades the old finalizer for the new one in one patch.
	if controllerutil.RemoveFinalizer(obj, meta.LegacyFinalizer) || !controllerutil.ContainsFinalizer(obj, meta.Finalizer) {
		controllerutil.AddFinalizer(obj, meta.Finalizer)
		if err := patcher.Patch(ctx, obj, patch.WithFieldOwner(f.FieldOwner)); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	observed, requests := f.Status(obj)
	if token, ok := meta.ReconcileAnnotationValue(obj.GetAnnotations()); ok {
		requests.SetLastHandledReconcileRequest(token)
	}
	if f.Suspended(obj) {
		// Conditions stay as they were but for Reconciling: nothing is in progress.
		conditions.Delete(obj, meta.ReconcilingCondition)
		return ctrl.Result{}, f.patch(ctx, obj, patcher, true)
	}
	// A new generation shows as in progress at once; a retry of the same one already does.
	if obj.GetGeneration() != observed &&
		conditions.GetObservedGeneration(obj, meta.ReconcilingCondition) != obj.GetGeneration() {
		conditions.MarkReconciling(obj, meta.ProgressingReason, "reconciling new generation %d", obj.GetGeneration())
		if err := f.patch(ctx, obj, patcher, false); err != nil {
			return ctrl.Result{}, err
		}
	}

	defer func() {
		outcome := Classify(retErr, meta.FailedReason)
		run.Summarize(outcome)
		LogStalled(ctx, outcome)
		if err := f.patch(ctx, obj, patcher, outcome.IsObservation()); err != nil && !apierrors.IsNotFound(err) {
			retErr = err
			return
		}
		if run.Result != nil {
			result, retErr = run.Result(outcome)
			return
		}
		result, retErr = Result(outcome, obj.GetRequeueAfter().Duration)
	}()
	ctx = context.WithValue(ctx, patchNowKey{}, func(ctx context.Context) error { return f.patch(ctx, obj, patcher, false) })
	return ctrl.Result{}, run.Steps(ctx)
}

type patchNowKey struct{}

// PatchNow writes the object a Frame's steps work on, status and metadata as they are now,
// before the run ends: for a step about to wait long to say so (with the reconcile request
// already recorded as handled). It goes through the frame's own patcher, so the final patch
// still writes every change from this state on. Not for concurrent use with the steps'
// changes to the object. It does nothing outside a Frame's steps.
func PatchNow(ctx context.Context) error {
	if patch, ok := ctx.Value(patchNowKey{}).(func(context.Context) error); ok {
		return patch(ctx)
	}
	return nil
}

// patch writes obj's status and metadata; observed advances status.observedGeneration.
func (f Frame[O]) patch(ctx context.Context, obj O, patcher *patch.SerialPatcher, observed bool) error {
	opts := []patch.Option{
		patch.WithFieldOwner(f.FieldOwner),
		patch.WithOwnedConditions{Conditions: f.OwnedConditions},
	}
	if observed {
		opts = append(opts, patch.WithStatusObservedGeneration{})
	}
	return patcher.Patch(ctx, obj, opts...)
}
