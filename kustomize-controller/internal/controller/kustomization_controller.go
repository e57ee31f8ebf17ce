package controller

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	runtimectrl "github.com/fluxcd/pkg/runtime/controller"
	"github.com/fluxcd/pkg/runtime/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/app"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/configwatch"
	"weir.dev/pkg/dependency"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/predicates"
	"weir.dev/pkg/steps"
)

// Field indexes of Kustomizations.
const (
	sourceIndex    = ".spec.sourceRef"
	dependsOnIndex = ".spec.dependsOn"
)

// KustomizationReconciler builds Kustomizations from source artifacts and applies them.
type KustomizationReconciler struct {
	client.Client
	EventRecorder events.Recorder
	// ControllerName is the field manager of applies and status patches.
	ControllerName string
	// Fetcher downloads artifacts; its AllowedHost is source-controller's advertised address.
	Fetcher *artifact.Fetcher
	// Artifacts shares extracted artifacts between Kustomizations; SetupWithManager makes one
	// over Fetcher, in a temporary directory it removes at shutdown, when it is nil.
	Artifacts *artifact.Cache
	// NoCrossNamespaceRefs refuses sources and dependencies in other namespaces.
	NoCrossNamespaceRefs bool
	// AllowRemoteBases lets builds fetch remote kustomize resources (http(s) files, Git bases
	// over http(s)), bounded; false refuses them before anything is fetched.
	AllowRemoteBases bool
	// SecretReader reads ConfigMaps and Secrets (substituteFrom, decryption keys) straight from
	// the API server, so the controller caches none of them.
	SecretReader client.Client
	// Identities gives the client each Kustomization acts as: impersonated, or a remote cluster.
	Identities *identity.Resolver
	// DependencyRequeue is how long to wait for a source or dependency that is not ready.
	DependencyRequeue time.Duration
	// MaxObjects is the most objects one Kustomization may build; 0 means DefaultMaxObjects.
	MaxObjects int
	// Intervals raises spec.interval and spec.retryInterval to --min-interval and jitters the
	// periodic requeue; nil for neither.
	Intervals *app.Intervals
	// AllowSharedObjects lets a Kustomization apply objects another Kustomization or a
	// HelmRelease owns, as before ownership was checked; false refuses them (OwnershipConflict).
	AllowSharedObjects bool
	// OwnerReader reads the Kustomizations and HelmReleases that objects' ownership labels
	// name, straight from the API server (another shard's are not cached); nil uses Client.
	OwnerReader client.Reader
	// Backoff paces the retries of transient failures (an artifact download, a health check
	// that timed out); SetupWithManager makes one with the default delays when it is nil.
	Backoff *steps.Backoff
	// Clock tells the time the sync windows are judged at; the wall clock when nil.
	Clock clock.PassiveClock

	applied appliedStates
	// claims are the objects Kustomizations were refused, for their owners to hand over.
	claims ownershipClaims
	// skips counts the runs that skipped the build and the apply.
	skips atomic.Int64
	// requests remembers recent reconcile requests, to queue their fan-out runs first.
	requests recentRequests
}

// DefaultMaxObjects is the default cap on the objects of one Kustomization. Its inventory must
// fit in its status, which etcd stores in at most 1.5 MiB with the rest of the object: an entry
// ("<namespace>_<name>_<group>_<Kind>" and a version) takes about 100 bytes, so 5,000 take about
// 500 KiB; kustomize builds 5,000 small objects in about a minute of one loaded CPU.
const DefaultMaxObjects = 5000

// SetupWithManager registers the reconciler: its own objects, the sources they use (a new
// artifact triggers them at once), their dependencies (becoming Ready triggers dependents) and
// the labelled ConfigMaps and Secrets they read (configwatch: a change triggers them at once).
func (r *KustomizationReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrent int) error {
	if r.Backoff == nil {
		r.Backoff = steps.NewBackoff(runtimectrl.RateLimiterOptions{})
	}
	if r.Artifacts == nil {
		cache, err := newArtifactCache(mgr, r.Fetcher, "weir-artifacts-")
		if err != nil {
			return err
		}
		r.Artifacts = cache
	}
	indexer := mgr.GetFieldIndexer()
	if err := indexer.IndexField(ctx, &kustomizev1.Kustomization{}, sourceIndex, func(o client.Object) []string {
		ks := o.(*kustomizev1.Kustomization)
		return []string{sourceKey(ks.Spec.SourceRef.Kind, refNamespace(ks.Spec.SourceRef.Namespace, ks.Namespace), ks.Spec.SourceRef.Name)}
	}); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &kustomizev1.Kustomization{}, dependsOnIndex, func(o client.Object) []string {
		return dependency.IndexKeys(dependencyRefs(o.(*kustomizev1.Kustomization)))
	}); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &kustomizev1.Kustomization{}, configwatch.IndexField, configRefs); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&kustomizev1.Kustomization{}, builder.WithPredicates(predicates.WithGate())).
		Watches(&sourcev1.GitRepository{}, fanOut(r.usersOf(sourcev1.GitRepositoryKind), r.requests.priority),
			builder.WithPredicates(predicates.ArtifactChanged{})).
		Watches(&sourcev1.OCIRepository{}, fanOut(r.usersOf(sourcev1.OCIRepositoryKind), r.requests.priority),
			builder.WithPredicates(predicates.ArtifactChanged{})).
		Watches(&sourcev1.ExternalArtifact{}, fanOut(r.usersOf(sourcev1.ExternalArtifactKind), r.requests.priority),
			builder.WithPredicates(predicates.ArtifactChanged{})).
		Watches(&kustomizev1.Kustomization{}, handler.EnqueueRequestsFromMapFunc(r.dependents(kustomizev1.KustomizationKind)),
			builder.WithPredicates(dependency.BecameReady{})).
		Watches(&helmv1.HelmRelease{}, handler.EnqueueRequestsFromMapFunc(r.dependents(helmv1.HelmReleaseKind)),
			builder.WithPredicates(dependency.BecameReady{}))
	return configwatch.Watch(b, r.configUsers).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrent, RateLimiter: r.Backoff}).
		Complete(r)
}

// usersOf maps a source of the kind to the Kustomizations that build it.
func (r *KustomizationReconciler) usersOf(kind string) handler.MapFunc {
	return predicates.RequestsByIndex[kustomizev1.KustomizationList](r.Client, sourceIndex, func(o client.Object) string {
		return sourceKey(kind, o.GetNamespace(), o.GetName())
	}, predicates.AllNamespaces)
}

// dependents maps a dependency of the kind to the Kustomizations that depend on it.
func (r *KustomizationReconciler) dependents(kind string) handler.MapFunc {
	return predicates.RequestsByIndex[kustomizev1.KustomizationList](r.Client, dependsOnIndex, func(o client.Object) string {
		return dependency.IndexKey(kind, o)
	}, predicates.AllNamespaces)
}

// Reconcile makes the cluster match one Kustomization's build of its source.
func (r *KustomizationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &kustomizev1.Kustomization{}
	sc := &ksScope{obj: obj, started: time.Now()}
	defer sc.cleanup()
	return r.frame().Reconcile(ctx, req, obj, steps.Hooks[*kustomizev1.Kustomization]{
		Finalize: r.finalize,
		Steps: func(ctx context.Context) error {
			return r.afterFailure(ctx, sc, steps.Run(ctx, sc,
				steps.Step[*ksScope]{Name: "source", Run: r.reconcileSource},
				steps.Step[*ksScope]{Name: "dependencies", Run: r.reconcileDependencies},
				steps.Step[*ksScope]{Name: "artifact", Run: r.reconcileArtifact},
				steps.Step[*ksScope]{Name: "build", Run: r.reconcileBuild},
				steps.Step[*ksScope]{Name: "waves", Run: r.reconcileWaves},
				steps.Step[*ksScope]{Name: "gate", Run: r.reconcileGate},
				steps.Step[*ksScope]{Name: "apply", Run: r.reconcileApply},
				steps.Step[*ksScope]{Name: "prune", Run: r.reconcilePrune},
				steps.Step[*ksScope]{Name: "health", Run: r.reconcileHealth},
			))
		},
		Summarize: func(outcome steps.Outcome) {
			summarizeKustomization(sc, outcome)
			r.remember(sc, outcome)
			token, _ := meta.ReconcileAnnotationValue(obj.GetAnnotations())
			r.requests.saw(req.NamespacedName, token)
		},
		Metadata:  func() map[string]string { return revisionMetadata(sc) },
		Announce:  func(o steps.Outcome, _ bool) (string, string) { return announceChanges(sc, o) },
		LogValues: func() []any { return retryLogValues(sc) },
		Requeue:   func(res ctrl.Result) ctrl.Result { return sc.held.Requeue(res) },
	})
}

// frame is the shared reconcile with the Kustomization's options.
func (r *KustomizationReconciler) frame() steps.Frame[*kustomizev1.Kustomization] {
	return steps.Frame[*kustomizev1.Kustomization]{
		Reader: r.Client, Client: r.Client, FieldOwner: r.ControllerName,
		OwnedConditions: kustomizationOwnedConditions,
		Recorder:        r.EventRecorder, Intervals: r.Intervals, Backoff: r.Backoff,
		// Retried within seconds, with backoff up to spec.retryInterval (spec.interval when
		// unset, either raised to --min-interval) and --max-retry-delay: never left until the
		// next interval.
		RetryInterval: retryInterval,
	}
}

// retryLogValues are what a failure's log line says of the source: its revision and the
// artifact's host (never the URL's userinfo or query).
func retryLogValues(sc *ksScope) []any {
	if sc.artifact == nil {
		return nil
	}
	return []any{"revision", sc.artifact.Revision, "host", artifact.Host(sc.artifact.URL)}
}

func sourceKey(kind, namespace, name string) string {
	return fmt.Sprintf("%s/%s/%s", kind, namespace, name)
}

func refNamespace(ref, own string) string {
	if ref == "" {
		return own
	}
	return ref
}
