package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/events"
	"github.com/fluxcd/pkg/runtime/patch"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/storage"
)

// sourceObject is a source kind as the shared reconcile skeleton sees it.
type sourceObject interface {
	client.Object
	conditions.Setter
	GetArtifact() *meta.Artifact
	GetRequeueAfter() metav1.Duration
}

// sourceKind tells the shared skeleton what differs between the source kinds.
type sourceKind[O sourceObject] struct {
	// kind names the kind's directory in storage.
	kind string
	// negative are the kind's abnormal-true conditions; a success clears them.
	negative []string
	// positive are the kind's positive conditions (e.g. ArtifactInStorage); the steps set them.
	positive []string
	// suspended reports spec.suspend.
	suspended func(O) bool
	// status returns status.observedGeneration and the reconcile-request status to echo into.
	status func(O) (observedGeneration int64, requests *meta.ReconcileRequestStatus)
	// ready returns Ready's reason and message after a successful run.
	ready func(O) (reason, message string)
}

// ownedConditions are the conditions the controller alone writes for the kind.
func (k *sourceKind[O]) ownedConditions() []string {
	owned := []string{meta.ReadyCondition, meta.ReconcilingCondition, meta.StalledCondition}
	owned = append(owned, k.positive...)
	return append(owned, k.negative...)
}

// sourceReconciler is what every source reconciler shares: the API client, the event
// recorder, the artifact storage and the field manager of its patches.
type sourceReconciler struct {
	client.Client
	EventRecorder  events.Recorder
	Storage        *storage.Storage
	ControllerName string
}

// reconcileSource is the Reconcile every source kind shares: get the object → patch helper →
// deletion (artifacts removed, then the finalizer) → finalizer → reconcile-request echo →
// suspend → Reconciling for a new generation → run, with the outcome summarised into Ready,
// Reconciling and Stalled, announced as a warning event when it failed, and patched, in one
// deferred function. run does the kind's steps on obj, which Get has filled.
func reconcileSource[O sourceObject](ctx context.Context, r sourceReconciler, k *sourceKind[O], obj O, req ctrl.Request,
	run func(context.Context) error) (result ctrl.Result, retErr error) {
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patcher := patch.NewSerialPatcher(obj, r.Client)

	if !obj.GetDeletionTimestamp().IsZero() {
		return r.reconcileDelete(ctx, k.kind, obj, patcher)
	}
	if !controllerutil.ContainsFinalizer(obj, meta.Finalizer) {
		controllerutil.AddFinalizer(obj, meta.Finalizer)
		if err := patcher.Patch(ctx, obj, patch.WithFieldOwner(r.ControllerName)); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	observed, requests := k.status(obj)
	if token, ok := meta.ReconcileAnnotationValue(obj.GetAnnotations()); ok {
		requests.SetLastHandledReconcileRequest(token)
	}
	if k.suspended(obj) {
		// Conditions stay as they were but for Reconciling: nothing is in progress.
		conditions.Delete(obj, meta.ReconcilingCondition)
		return ctrl.Result{}, r.patch(ctx, k, obj, patcher, true)
	}
	// A new generation shows as in progress at once; a retry of the same one already does.
	if obj.GetGeneration() != observed &&
		conditions.GetObservedGeneration(obj, meta.ReconcilingCondition) != obj.GetGeneration() {
		conditions.MarkReconciling(obj, meta.ProgressingReason, "reconciling new generation %d", obj.GetGeneration())
		if err := r.patch(ctx, k, obj, patcher, false); err != nil {
			return ctrl.Result{}, err
		}
	}

	defer func() {
		outcome := steps.Classify(retErr, meta.FailedReason)
		reason, msg := k.ready(obj)
		steps.Summary{Negative: k.negative, SuccessReason: reason, SuccessMessage: msg}.Apply(obj, outcome)
		steps.Event(r.EventRecorder, obj, outcome, revisionMetadata(obj))
		if err := r.patch(ctx, k, obj, patcher, outcome.IsObservation()); err != nil && !apierrors.IsNotFound(err) {
			retErr = err
			return
		}
		result, retErr = steps.Result(outcome, obj.GetRequeueAfter().Duration)
	}()
	return ctrl.Result{}, run(ctx)
}

// reconcileDelete removes the object's artifacts from storage, then the finalizer.
func (r sourceReconciler) reconcileDelete(ctx context.Context, kind string, obj client.Object, patcher *patch.SerialPatcher) (ctrl.Result, error) {
	if err := r.Storage.RemoveAll(kind, obj.GetNamespace(), obj.GetName()); err != nil {
		return ctrl.Result{}, fmt.Errorf("removing the artifacts from storage: %w", err)
	}
	controllerutil.RemoveFinalizer(obj, meta.Finalizer)
	return ctrl.Result{}, client.IgnoreNotFound(patcher.Patch(ctx, obj, patch.WithFieldOwner(r.ControllerName)))
}

// patch writes obj's status and metadata; observed advances status.observedGeneration.
func (r sourceReconciler) patch(ctx context.Context, k interface{ ownedConditions() []string }, obj client.Object,
	patcher *patch.SerialPatcher, observed bool) error {
	opts := []patch.Option{
		patch.WithFieldOwner(r.ControllerName),
		patch.WithOwnedConditions{Conditions: k.ownedConditions()},
	}
	if observed {
		opts = append(opts, patch.WithStatusObservedGeneration{})
	}
	return patcher.Patch(ctx, obj, opts...)
}

// revisionMetadata is the event metadata for obj: its artifact's revision, if any.
func revisionMetadata(obj sourceObject) map[string]string {
	if a := obj.GetArtifact(); a != nil {
		return map[string]string{meta.RevisionEventKey: a.Revision}
	}
	return nil
}

// storageFailed sets StorageOperationFailed and classifies err as transient.
func storageFailed(obj conditions.Setter, err error) error {
	conditions.MarkTrue(obj, sourcev1.StorageOperationFailedCondition, sourcev1.StorageOperationFailedReason, "%s", err)
	return steps.Failed(sourcev1.StorageOperationFailedReason, err)
}
