package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/events"
	"github.com/fluxcd/pkg/runtime/patch"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/predicates"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/storage"
)

// includeIndex indexes GitRepositories by the names of the GitRepositories they include.
const includeIndex = ".spec.include.repository"

// GitRepositoryReconciler turns GitRepositories into artifacts in Storage.
type GitRepositoryReconciler struct {
	client.Client
	EventRecorder events.Recorder
	Storage       *storage.Storage
	// ControllerName is the field manager of status patches.
	ControllerName string
	// DependencyRequeue is how long to wait for an included repository's first artifact.
	DependencyRequeue time.Duration
}

// SetupWithManager registers the reconciler: its own objects (new generations and reconcile
// requests), and the GitRepositories they include, so a new included artifact rebuilds the
// includer at once.
func (r *GitRepositoryReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrent int) error {
	err := mgr.GetFieldIndexer().IndexField(ctx, &sourcev1.GitRepository{}, includeIndex, func(o client.Object) []string {
		var names []string
		for _, inc := range o.(*sourcev1.GitRepository).Spec.Include {
			names = append(names, inc.GitRepositoryRef.Name)
		}
		return names
	})
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&sourcev1.GitRepository{}, builder.WithPredicates(predicates.Default())).
		Watches(&sourcev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.includers),
			builder.WithPredicates(predicates.ArtifactChanged{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrent}).
		Complete(r)
}

// includers maps a GitRepository to the ones in its namespace that include it.
func (r *GitRepositoryReconciler) includers(ctx context.Context, o client.Object) []reconcile.Request {
	var list sourcev1.GitRepositoryList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{includeIndex: o.GetName()}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, it := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&it)})
	}
	return reqs
}

// Reconcile brings one GitRepository's artifact up to date with its remote.
func (r *GitRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := &sourcev1.GitRepository{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	patcher := patch.NewSerialPatcher(obj, r.Client)

	if !obj.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, obj, patcher)
	}
	if !controllerutil.ContainsFinalizer(obj, meta.Finalizer) {
		controllerutil.AddFinalizer(obj, meta.Finalizer)
		if err := patcher.Patch(ctx, obj, patch.WithFieldOwner(r.ControllerName)); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	if token, ok := meta.ReconcileAnnotationValue(obj.GetAnnotations()); ok {
		obj.Status.SetLastHandledReconcileRequest(token)
	}
	if obj.Spec.Suspend {
		markSuspended(obj)
		return ctrl.Result{}, r.patch(ctx, obj, patcher, true)
	}
	// A new generation shows as in progress at once; a retry of the same one already does.
	if obj.Generation != obj.Status.ObservedGeneration &&
		conditions.GetObservedGeneration(obj, meta.ReconcilingCondition) != obj.Generation {
		conditions.MarkReconciling(obj, meta.ProgressingReason, "reconciling new generation %d", obj.Generation)
		if err := r.patch(ctx, obj, patcher, false); err != nil {
			return ctrl.Result{}, err
		}
	}

	sc := &gitScope{obj: obj}
	defer func() {
		outcome := steps.Classify(retErr, meta.FailedReason)
		summarizeGitRepository(sc, outcome)
		steps.Event(r.EventRecorder, obj, outcome, revisionMetadata(obj))
		if err := r.patch(ctx, obj, patcher, outcome.IsObservation()); err != nil && !apierrors.IsNotFound(err) {
			retErr = err
			return
		}
		result, retErr = steps.Result(outcome, obj.Spec.Interval.Duration)
	}()
	return ctrl.Result{}, steps.Run(ctx, sc,
		steps.Step[*gitScope]{Name: "validate", Run: r.validateSpec},
		steps.Step[*gitScope]{Name: "auth", Run: r.reconcileAuth},
		steps.Step[*gitScope]{Name: "include", Run: r.reconcileInclude},
		steps.Step[*gitScope]{Name: "remote", Run: r.reconcileRemote},
		steps.Step[*gitScope]{Name: "checkout", Run: r.reconcileCheckout},
		steps.Step[*gitScope]{Name: "verify", Run: r.reconcileVerification},
		steps.Step[*gitScope]{Name: "artifact", Run: r.reconcileArtifact},
	)
}

// reconcileDelete removes the object's artifacts from storage, then the finalizer.
func (r *GitRepositoryReconciler) reconcileDelete(ctx context.Context, obj *sourcev1.GitRepository, patcher *patch.SerialPatcher) (ctrl.Result, error) {
	if err := r.Storage.RemoveAll(sourcev1.GitRepositoryKind, obj.Namespace, obj.Name); err != nil {
		return ctrl.Result{}, fmt.Errorf("removing the artifacts from storage: %w", err)
	}
	controllerutil.RemoveFinalizer(obj, meta.Finalizer)
	return ctrl.Result{}, client.IgnoreNotFound(patcher.Patch(ctx, obj, patch.WithFieldOwner(r.ControllerName)))
}

// patch writes obj's status and metadata; observed advances status.observedGeneration.
func (r *GitRepositoryReconciler) patch(ctx context.Context, obj *sourcev1.GitRepository, patcher *patch.SerialPatcher, observed bool) error {
	opts := []patch.Option{
		patch.WithFieldOwner(r.ControllerName),
		patch.WithOwnedConditions{Conditions: gitRepositoryOwnedConditions},
	}
	if observed {
		opts = append(opts, patch.WithStatusObservedGeneration{})
	}
	return patcher.Patch(ctx, obj, opts...)
}
