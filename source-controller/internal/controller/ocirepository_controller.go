package controller

import (
	"context"

	"github.com/fluxcd/pkg/runtime/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/app"
	"weir.dev/pkg/predicates"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/storage"
)

// OCIRepositoryReconciler turns artifacts in OCI registries into artifacts in Storage.
type OCIRepositoryReconciler struct {
	client.Client
	EventRecorder events.Recorder
	Storage       *storage.Storage
	// Intervals raises spec.interval to --min-interval and jitters the periodic requeue;
	// nil for neither.
	Intervals *app.Intervals
	// ControllerName is the field manager of status patches.
	ControllerName string
	// MaxLayerSize bounds the selected layer; oci.DefaultMaxLayerSize when zero.
	MaxLayerSize int64
}

// SetupWithManager registers the reconciler for its own objects' new generations and
// reconcile requests.
func (r *OCIRepositoryReconciler) SetupWithManager(mgr ctrl.Manager, concurrent int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&sourcev1.OCIRepository{}, builder.WithPredicates(predicates.Default())).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrent}).
		Complete(r)
}

// Reconcile brings one OCIRepository's artifact up to date with its registry.
func (r *OCIRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &sourcev1.OCIRepository{}
	sc := &ociScope{obj: obj}
	shared := sourceReconciler{Client: r.Client, EventRecorder: r.EventRecorder, Storage: r.Storage, ControllerName: r.ControllerName, Intervals: r.Intervals}
	return reconcileSource(ctx, shared, ociRepositoryKind, obj, req, func(ctx context.Context) error {
		return steps.Run(ctx, sc,
			steps.Step[*ociScope]{Name: "validate", Run: r.validateSpec},
			steps.Step[*ociScope]{Name: "auth", Run: r.reconcileAuth},
			steps.Step[*ociScope]{Name: "remote", Run: r.reconcileRemote},
			steps.Step[*ociScope]{Name: "verify", Run: r.reconcileVerification},
			steps.Step[*ociScope]{Name: "pull", Run: r.reconcilePull},
			steps.Step[*ociScope]{Name: "artifact", Run: r.reconcileArtifact},
		)
	})
}
