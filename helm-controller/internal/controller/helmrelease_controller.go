package controller

import (
	"context"
	"time"

	runtimectrl "github.com/fluxcd/pkg/runtime/controller"
	"github.com/fluxcd/pkg/runtime/events"
	"helm.sh/helm/v3/pkg/kube"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/app"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/configwatch"
	"weir.dev/pkg/dependency"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/predicates"
	"weir.dev/pkg/steps"
)

// Field indexes of HelmReleases.
const (
	helmChartIndex     = ".helmChart"        // "<namespace>/<name>" of the HelmChart it uses
	ociRepositoryIndex = ".ociRepository"    // "<namespace>/<name>" of its chartRef OCIRepository
	externalIndex      = ".externalArtifact" // "<namespace>/<name>" of its chartRef ExternalArtifact
	dependsOnIndex     = ".spec.dependsOn"
)

// HelmReleaseReconciler installs, upgrades and uninstalls Helm releases from chart artifacts.
type HelmReleaseReconciler struct {
	client.Client
	// APIReader reads uncached: the HelmRelease being reconciled (its status must be current),
	// the HelmChart it writes, and ConfigMaps and Secrets of spec.valuesFrom (caching every
	// Secret of the cluster, Helm's release records included, would cost more than reading a few).
	APIReader     client.Reader
	EventRecorder events.Recorder
	// ControllerName is the field manager of HelmCharts and status patches.
	ControllerName string
	// Fetcher downloads chart artifacts; its AllowedHost is source-controller's advertised address.
	Fetcher *artifact.Fetcher
	// Identities gives the client each release acts as (spec.serviceAccountName,
	// --default-service-account, spec.kubeConfig).
	Identities *identity.Resolver
	// NoCrossNamespaceRefs refuses sources and dependencies in other namespaces.
	NoCrossNamespaceRefs bool
	// DependencyRequeue is how long to wait for a chart or dependency that is not ready.
	DependencyRequeue time.Duration
	// MaxObjects is the most objects a release's manifest may hold; 0 means DefaultMaxObjects.
	MaxObjects int
	// Intervals raises spec.interval and the strategies' retryInterval to --min-interval and
	// jitters the periodic requeue; nil for neither.
	Intervals *app.Intervals
	// Backoff paces the retries of transient failures (a chart download, an API error);
	// SetupWithManager makes one with the default delays when it is nil.
	Backoff *steps.Backoff
	// Clock tells the time the sync windows are judged at; the wall clock when nil.
	Clock clock.PassiveClock

	getters      release.Getters
	dependencies *dependency.Checker
}

// SetupWithManager registers the reconciler: its own objects, the HelmCharts and
// OCIRepositories they use (a new artifact, or a failure, triggers them at once) and their
// dependencies (becoming Ready triggers dependents).
func (r *HelmReleaseReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrent int) error {
	// Helm writes the release's objects as the controller, so that drift reports and drift
	// correction tell its writes from everyone else's. (Helm's default is the binary's name.)
	kube.ManagedFieldsManager = r.ControllerName
	if r.Backoff == nil {
		r.Backoff = steps.NewBackoff(runtimectrl.RateLimiterOptions{})
	}
	r.dependencies = &dependency.Checker{
		Reader:     mgr.GetClient(),
		ExprReader: mgr.GetAPIReader(), // the cache trims Kustomizations (helmrelease_cache.go)
		Scheme:     mgr.GetScheme(),
		Kinds: map[string]schema.GroupVersion{
			helmv1.HelmReleaseKind:        helmv1.GroupVersion,
			kustomizev1.KustomizationKind: kustomizev1.GroupVersion,
		},
	}
	indexer := mgr.GetFieldIndexer()
	if err := indexer.IndexField(ctx, &helmv1.HelmRelease{}, helmChartIndex, func(o client.Object) []string {
		hr := o.(*helmv1.HelmRelease)
		var keys []string
		if hr.Status.HelmChart != "" {
			keys = append(keys, hr.Status.HelmChart)
		}
		if ref := hr.Spec.ChartRef; ref != nil && ref.Kind == sourcev1.HelmChartKind {
			keys = append(keys, refNamespace(ref.Namespace, hr.Namespace)+"/"+ref.Name)
		}
		return keys
	}); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &helmv1.HelmRelease{}, ociRepositoryIndex, func(o client.Object) []string {
		hr := o.(*helmv1.HelmRelease)
		if ref := hr.Spec.ChartRef; ref != nil && ref.Kind == sourcev1.OCIRepositoryKind {
			return []string{refNamespace(ref.Namespace, hr.Namespace) + "/" + ref.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &helmv1.HelmRelease{}, externalIndex, func(o client.Object) []string {
		hr := o.(*helmv1.HelmRelease)
		if ref := hr.Spec.ChartRef; ref != nil && ref.Kind == sourcev1.ExternalArtifactKind {
			return []string{refNamespace(ref.Namespace, hr.Namespace) + "/" + ref.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &helmv1.HelmRelease{}, dependsOnIndex, func(o client.Object) []string {
		return dependency.IndexKeys(dependencyRefs(o.(*helmv1.HelmRelease)))
	}); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &helmv1.HelmRelease{}, configwatch.IndexField, configRefs); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&helmv1.HelmRelease{}, builder.WithPredicates(predicates.WithGate())).
		Watches(&sourcev1.HelmChart{}, handler.EnqueueRequestsFromMapFunc(r.usersOf(helmChartIndex)),
			builder.WithPredicates(sourceChanged())).
		Watches(&sourcev1.OCIRepository{}, handler.EnqueueRequestsFromMapFunc(r.usersOf(ociRepositoryIndex)),
			builder.WithPredicates(sourceChanged())).
		Watches(&sourcev1.ExternalArtifact{}, handler.EnqueueRequestsFromMapFunc(r.usersOf(externalIndex)),
			builder.WithPredicates(sourceChanged())).
		Watches(&helmv1.HelmRelease{}, handler.EnqueueRequestsFromMapFunc(r.dependents(helmv1.HelmReleaseKind)),
			builder.WithPredicates(dependency.BecameReady{})).
		Watches(&kustomizev1.Kustomization{}, handler.EnqueueRequestsFromMapFunc(r.dependents(kustomizev1.KustomizationKind)),
			builder.WithPredicates(dependency.BecameReady{}))
	return configwatch.Watch(b, r.configUsers).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrent, RateLimiter: r.Backoff}).
		Complete(r)
}

// usersOf maps a chart source to the HelmReleases whose index (of chart references) names it.
func (r *HelmReleaseReconciler) usersOf(index string) handler.MapFunc {
	return predicates.RequestsByIndex[helmv1.HelmReleaseList](r.Client, index, predicates.NamespacedName, predicates.AllNamespaces)
}

// dependents maps a dependency of the kind to the HelmReleases that depend on it.
func (r *HelmReleaseReconciler) dependents(kind string) handler.MapFunc {
	return predicates.RequestsByIndex[helmv1.HelmReleaseList](r.Client, dependsOnIndex, func(o client.Object) string {
		return dependency.IndexKey(kind, o)
	}, predicates.AllNamespaces)
}

// Reconcile makes one HelmRelease's Helm release match its chart and values.
func (r *HelmReleaseReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &helmv1.HelmRelease{}
	sc := &hrScope{obj: obj, maxObjects: r.maxObjects()}
	defer sc.cleanup()
	return r.frame().Reconcile(ctx, req, obj, steps.Hooks[*helmv1.HelmRelease]{
		Finalize: r.finalize,
		Steps: func(ctx context.Context) error {
			return steps.Run(ctx, sc,
				steps.Step[*hrScope]{Name: "spec", Run: r.reconcileSpec},
				steps.Step[*hrScope]{Name: "dependencies", Run: r.reconcileDependencies},
				steps.Step[*hrScope]{Name: "chart template", Run: r.reconcileChartTemplate},
				steps.Step[*hrScope]{Name: "source", Run: r.reconcileSource},
				steps.Step[*hrScope]{Name: "chart", Run: r.reconcileChart},
				steps.Step[*hrScope]{Name: "values", Run: r.reconcileValues},
				steps.Step[*hrScope]{Name: "release", Run: r.reconcileRelease},
			)
		},
		Summarize: func(outcome steps.Outcome) { summarizeHelmRelease(sc, outcome) },
		Metadata:  func() map[string]string { return revisionMetadata(sc) },
		LogValues: func() []any { return retryLogValues(sc) },
		Requeue:   func(res ctrl.Result) ctrl.Result { return sc.held.Requeue(res) },
	})
}

// frame is the shared reconcile with the HelmRelease's options.
func (r *HelmReleaseReconciler) frame() steps.Frame[*helmv1.HelmRelease] {
	return steps.Frame[*helmv1.HelmRelease]{
		// Read past the cache: whether the desired state changed since the last attempt is
		// judged from status, and a cache that has not yet seen the previous reconcile's status
		// would make an in-sync release look due for an upgrade.
		Reader: r.APIReader, Client: r.Client, FieldOwner: r.ControllerName,
		OwnedConditions: helmReleaseOwnedConditions,
		Recorder:        r.EventRecorder, Intervals: r.Intervals, Backoff: r.Backoff,
		// A stall comes back after the interval too: a fixed values ConfigMap or Secret is
		// then noticed.
		RequeueStalled: func(steps.Outcome) bool { return true },
	}
}

// retryLogValues are what a failure's log line says of the chart: its source, revision and
// the artifact's host (never the URL's userinfo or query).
func retryLogValues(sc *hrScope) []any {
	if sc.artifact == nil {
		return nil
	}
	return []any{"source", sc.source, "revision", sc.artifact.Revision, "host", artifact.Host(sc.artifact.URL)}
}

func refNamespace(ref, own string) string {
	if ref == "" {
		return own
	}
	return ref
}
