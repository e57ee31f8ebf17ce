package controller

import (
	"context"
	"os"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/app"
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
	// Intervals raises spec.interval to --min-interval and jitters the periodic requeue;
	// nil for neither.
	Intervals *app.Intervals
	// ControllerName is the field manager of status patches.
	ControllerName string
	// DependencyRequeue is how long to wait for an included repository's first artifact.
	DependencyRequeue time.Duration

	// mirrors keeps worktrees between revisions, in a temporary directory removed at shutdown.
	mirrors *mirrors
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
	dir, err := os.MkdirTemp("", "weir-git-")
	if err != nil {
		return err
	}
	r.mirrors = &mirrors{dir: dir}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return os.RemoveAll(dir)
	})); err != nil {
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
	return predicates.RequestsByIndex[sourcev1.GitRepositoryList](r.Client, includeIndex, predicates.Name, predicates.SameNamespace)(ctx, o)
}

// Reconcile brings one GitRepository's artifact up to date with its remote.
func (r *GitRepositoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &sourcev1.GitRepository{}
	sc := &gitScope{obj: obj}
	defer r.cleanup(sc)
	return reconcileSource(ctx, r.shared(), gitRepositoryKind, obj, req, func(ctx context.Context) error {
		return steps.Run(ctx, sc,
			steps.Step[*gitScope]{Name: "validate", Run: r.validateSpec},
			steps.Step[*gitScope]{Name: "auth", Run: r.reconcileAuth},
			steps.Step[*gitScope]{Name: "include", Run: r.reconcileInclude},
			steps.Step[*gitScope]{Name: "remote", Run: r.reconcileRemote},
			steps.Step[*gitScope]{Name: "checkout", Run: r.reconcileCheckout},
			steps.Step[*gitScope]{Name: "verify", Run: r.reconcileVerification},
			steps.Step[*gitScope]{Name: "artifact", Run: r.reconcileArtifact},
		)
	})
}

func (r *GitRepositoryReconciler) shared() sourceReconciler {
	return sourceReconciler{Client: r.Client, EventRecorder: r.EventRecorder, Storage: r.Storage, ControllerName: r.ControllerName, Intervals: r.Intervals}
}
