package controller

import (
	"context"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/app"
	"weir.dev/pkg/predicates"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/chart"
	"weir.dev/source-controller/internal/storage"
)

// sourceRefIndex indexes HelmCharts by `<kind>/<name>` of their source.
const sourceRefIndex = ".spec.sourceRef"

// HelmChartReconciler packages charts from HelmRepositories, GitRepositories and
// OCIRepositories into chart artifacts.
type HelmChartReconciler struct {
	client.Client
	EventRecorder events.Recorder
	Storage       *storage.Storage
	// Intervals raises spec.interval to --min-interval and jitters the periodic requeue;
	// nil for neither.
	Intervals *app.Intervals
	// ControllerName is the field manager of status patches.
	ControllerName string
	// DependencyRequeue is how long to wait for a source's first artifact.
	DependencyRequeue time.Duration
	// Limits bound a chart archive, its files and the packaged artifact.
	Limits chart.Limits

	indexes indexCache
}

// SetupWithManager registers the reconciler: its own objects (new generations and reconcile
// requests), and the sources they reference, so a source's new artifact rebuilds the chart at
// once.
func (r *HelmChartReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrent int) error {
	err := mgr.GetFieldIndexer().IndexField(ctx, &sourcev1.HelmChart{}, sourceRefIndex, func(o client.Object) []string {
		ref := o.(*sourcev1.HelmChart).Spec.SourceRef
		return []string{ref.Kind + "/" + ref.Name}
	})
	if err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&sourcev1.HelmChart{}, builder.WithPredicates(predicates.Default()))
	for kind, obj := range map[string]client.Object{
		sourcev1.HelmRepositoryKind: &sourcev1.HelmRepository{},
		sourcev1.GitRepositoryKind:  &sourcev1.GitRepository{},
		sourcev1.OCIRepositoryKind:  &sourcev1.OCIRepository{},
	} {
		b = b.Watches(obj, handler.EnqueueRequestsFromMapFunc(r.chartsOf(kind)), builder.WithPredicates(predicates.ArtifactChanged{}))
	}
	return b.WithOptions(controller.Options{MaxConcurrentReconciles: concurrent}).Complete(r)
}

// chartsOf maps a source of kind to the HelmCharts in its namespace that use it.
func (r *HelmChartReconciler) chartsOf(kind string) handler.MapFunc {
	return predicates.RequestsByIndex[sourcev1.HelmChartList](r.Client, sourceRefIndex, func(o client.Object) string {
		return kind + "/" + o.GetName()
	}, predicates.SameNamespace)
}

// Reconcile brings one HelmChart's packaged chart up to date with its source.
func (r *HelmChartReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &sourcev1.HelmChart{}
	sc := &helmChartScope{obj: obj}
	shared := sourceReconciler{Client: r.Client, EventRecorder: r.EventRecorder, Storage: r.Storage, ControllerName: r.ControllerName, Intervals: r.Intervals}
	return reconcileSource(ctx, shared, helmChartKind, obj, req, func(ctx context.Context) error {
		return steps.Run(ctx, sc,
			steps.Step[*helmChartScope]{Name: "validate", Run: r.validateSpec},
			steps.Step[*helmChartScope]{Name: "source", Run: r.reconcileSource},
			steps.Step[*helmChartScope]{Name: "build", Run: r.reconcileBuild},
			steps.Step[*helmChartScope]{Name: "artifact", Run: r.reconcileArtifact},
		)
	})
}
