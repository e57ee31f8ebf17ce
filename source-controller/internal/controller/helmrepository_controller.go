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

// HelmRepositoryReconciler turns HelmRepositories of type default into normalised index
// artifacts, and checks that those of type oci are reachable with their credentials.
type HelmRepositoryReconciler struct {
	client.Client
	EventRecorder events.Recorder
	Storage       *storage.Storage
	// Intervals raises spec.interval to --min-interval and jitters the periodic requeue;
	// nil for neither.
	Intervals *app.Intervals
	// ControllerName is the field manager of status patches.
	ControllerName string
	// MaxIndexSize bounds a downloaded index.yaml; helmrepo.DefaultMaxIndexSize when zero.
	MaxIndexSize int64
}

// SetupWithManager registers the reconciler for its own objects' new generations and
// reconcile requests.
func (r *HelmRepositoryReconciler) SetupWithManager(mgr ctrl.Manager, concurrent int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&sourcev1.HelmRepository{}, builder.WithPredicates(predicates.Default())).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrent}).
		Complete(r)
}

// Reconcile brings one HelmRepository's index artifact (type default) or registry check (type
// oci) up to date.
func (r *HelmRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &sourcev1.HelmRepository{}
	sc := &helmRepositoryScope{obj: obj}
	shared := sourceReconciler{Client: r.Client, EventRecorder: r.EventRecorder, Storage: r.Storage, ControllerName: r.ControllerName, Intervals: r.Intervals}
	return reconcileSource(ctx, shared, helmRepositoryKind, obj, req, func(ctx context.Context) error {
		if obj.Spec.Type == sourcev1.HelmRepositoryTypeOCI {
			return steps.Run(ctx, sc,
				steps.Step[*helmRepositoryScope]{Name: "validate", Run: r.validateSpec},
				steps.Step[*helmRepositoryScope]{Name: "registry", Run: r.reconcileRegistry},
			)
		}
		return steps.Run(ctx, sc,
			steps.Step[*helmRepositoryScope]{Name: "validate", Run: r.validateSpec},
			steps.Step[*helmRepositoryScope]{Name: "auth", Run: r.reconcileAuth},
			steps.Step[*helmRepositoryScope]{Name: "index", Run: r.reconcileIndex},
			steps.Step[*helmRepositoryScope]{Name: "artifact", Run: r.reconcileArtifact},
		)
	})
}
