package controller

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/app"
	"weir.dev/pkg/predicates"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/storage"
)

// generatorSourceIndex indexes ArtifactGenerators by `<kind>/<name>` of each source they read.
const generatorSourceIndex = ".spec.sources"

// ArtifactGeneratorReconciler turns ArtifactGenerators into ExternalArtifacts: it copies files
// from its sources' artifacts into one artifact per spec.artifacts entry, stores each, and
// records it in the status of an ExternalArtifact it owns. An artifact whose content did not
// change keeps its ExternalArtifact untouched, so its consumers do not reconcile.
type ArtifactGeneratorReconciler struct {
	client.Client
	EventRecorder events.Recorder
	Storage       *storage.Storage
	// Intervals raises spec.interval to --min-interval and jitters the periodic requeue;
	// nil for neither.
	Intervals *app.Intervals
	// ControllerName is the field manager of status patches.
	ControllerName string
	// DependencyRequeue is how long to wait for a source that is not ready.
	DependencyRequeue time.Duration
}

// agScope is what the ArtifactGenerator steps share. Each field names the step that fills it.
type agScope struct {
	obj *sourcev1.ArtifactGenerator

	sources map[string]*generatorSource // reconcileSources: by alias
	tmp     string                      // reconcileExtract: the run's temporary directory
	trees   map[string]*os.Root         // reconcileExtract: the extracted source artifacts, by alias
}

// generatorSource is one source read, and its artifact.
type generatorSource struct {
	ref      sourcev1.ArtifactSourceReference
	artifact *meta.Artifact
}

// cleanup closes the extracted trees and removes the run's temporary directory.
func (sc *agScope) cleanup() {
	for _, r := range sc.trees {
		r.Close()
	}
	if sc.tmp != "" {
		os.RemoveAll(sc.tmp)
	}
}

// SetupWithManager registers the reconciler: its own objects, the sources they read (a new
// artifact regenerates at once) and the deletion of the ExternalArtifacts they own.
func (r *ArtifactGeneratorReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrent int) error {
	err := mgr.GetFieldIndexer().IndexField(ctx, &sourcev1.ArtifactGenerator{}, generatorSourceIndex, func(o client.Object) []string {
		var keys []string
		for _, s := range o.(*sourcev1.ArtifactGenerator).Spec.Sources {
			keys = append(keys, s.Kind+"/"+s.Name)
		}
		return keys
	})
	if err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&sourcev1.ArtifactGenerator{}, builder.WithPredicates(predicates.Default())).
		Owns(&sourcev1.ExternalArtifact{}, builder.WithPredicates(predicate.Funcs{
			CreateFunc:  func(event.CreateEvent) bool { return false },
			UpdateFunc:  func(event.UpdateEvent) bool { return false },
			GenericFunc: func(event.GenericEvent) bool { return false },
		}))
	for kind, obj := range map[string]client.Object{
		sourcev1.GitRepositoryKind:    &sourcev1.GitRepository{},
		sourcev1.OCIRepositoryKind:    &sourcev1.OCIRepository{},
		sourcev1.HelmChartKind:        &sourcev1.HelmChart{},
		sourcev1.ExternalArtifactKind: &sourcev1.ExternalArtifact{},
	} {
		b = b.Watches(obj, handler.EnqueueRequestsFromMapFunc(r.generatorsOf(kind)), builder.WithPredicates(predicates.ArtifactChanged{}))
	}
	return b.WithOptions(controller.Options{MaxConcurrentReconciles: concurrent}).Complete(r)
}

// generatorsOf maps a source of kind to the ArtifactGenerators in its namespace that read it.
func (r *ArtifactGeneratorReconciler) generatorsOf(kind string) handler.MapFunc {
	return predicates.RequestsByIndex[sourcev1.ArtifactGeneratorList](r.Client, generatorSourceIndex, func(o client.Object) string {
		return kind + "/" + o.GetName()
	}, predicates.SameNamespace)
}

// Reconcile generates one ArtifactGenerator's ExternalArtifacts from its sources.
func (r *ArtifactGeneratorReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &sourcev1.ArtifactGenerator{}
	sc := &agScope{obj: obj}
	defer sc.cleanup()
	frame := steps.Frame[*sourcev1.ArtifactGenerator]{
		Reader: r.Client, Client: r.Client, FieldOwner: r.ControllerName,
		OwnedConditions: artifactGeneratorConditions, Recorder: r.EventRecorder, Intervals: r.Intervals,
	}
	return frame.Reconcile(ctx, req, obj, steps.Hooks[*sourcev1.ArtifactGenerator]{
		Finalize: r.finalize,
		Steps: func(ctx context.Context) error {
			return steps.Run(ctx, sc,
				steps.Step[*agScope]{Name: "validate", Run: r.validateSpec},
				steps.Step[*agScope]{Name: "sources", Run: r.reconcileSources},
				steps.Step[*agScope]{Name: "extract", Run: r.reconcileExtract},
				steps.Step[*agScope]{Name: "artifacts", Run: r.reconcileArtifacts},
				steps.Step[*agScope]{Name: "prune", Run: r.reconcilePrune},
			)
		},
		Summarize: func(outcome steps.Outcome) {
			steps.Summary{Negative: artifactGeneratorNegative, SuccessMessage: generatorReadyMessage(obj)}.Apply(obj, outcome)
		},
	})
}

// generatorReadyMessage is Ready's message after a successful run.
func generatorReadyMessage(obj *sourcev1.ArtifactGenerator) string {
	return fmt.Sprintf("generated %d artifact(s)", len(obj.Status.Inventory))
}
