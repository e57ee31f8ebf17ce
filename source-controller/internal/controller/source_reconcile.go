package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/app"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/storage"
)

// sourceObject is a source kind as the shared reconcile skeleton sees it.
type sourceObject interface {
	steps.Object
	GetArtifact() *meta.Artifact
}

// sourceKind tells the shared skeleton what differs between the source kinds.
type sourceKind[O sourceObject] struct {
	// kind names the kind's directory in storage.
	kind string
	// negative are the kind's abnormal-true conditions; a success clears them.
	negative []string
	// positive are the kind's positive conditions (e.g. ArtifactInStorage); the steps set them.
	positive []string
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
// recorder, the artifact storage, the field manager of its patches and the interval policy.
type sourceReconciler struct {
	client.Client
	EventRecorder  events.Recorder
	Storage        *storage.Storage
	ControllerName string
	// Intervals raises spec.interval to --min-interval and jitters the periodic requeue; nil
	// for neither.
	Intervals *app.Intervals
}

// reconcileSource is the Reconcile every source kind shares: steps.Frame, with the kind's
// artifacts removed from storage on deletion, and the outcome summarised into Ready,
// Reconciling and Stalled and announced as a warning event when it failed, and a success
// requeued after spec.interval, raised to the floor and jittered. run does the kind's steps on
// obj, which the frame has filled.
func reconcileSource[O sourceObject](ctx context.Context, r sourceReconciler, k *sourceKind[O], obj O, req ctrl.Request,
	run func(context.Context) error) (ctrl.Result, error) {
	frame := steps.Frame[O]{
		Reader: r.Client, Client: r.Client, FieldOwner: r.ControllerName,
		OwnedConditions: k.ownedConditions(), Recorder: r.EventRecorder, Intervals: r.Intervals,
	}
	return frame.Reconcile(ctx, req, obj, steps.Hooks[O]{
		Finalize: func(context.Context, O) error {
			if err := r.Storage.RemoveAll(k.kind, obj.GetNamespace(), obj.GetName()); err != nil {
				return fmt.Errorf("removing the artifacts from storage: %w", err)
			}
			return nil
		},
		Steps: run,
		Summarize: func(outcome steps.Outcome) {
			reason, msg := k.ready(obj)
			steps.Summary{Negative: k.negative, SuccessReason: reason, SuccessMessage: msg}.Apply(obj, outcome)
		},
		Metadata: func() map[string]string { return revisionMetadata(obj) },
	})
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
