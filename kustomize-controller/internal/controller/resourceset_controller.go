package controller

import (
	"context"
	"time"

	runtimectrl "github.com/fluxcd/pkg/runtime/controller"
	"github.com/fluxcd/pkg/runtime/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/app"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/predicates"
	"weir.dev/pkg/steps"
)

// Its own kind, and the owners whose objects it must not take.
// +kubebuilder:rbac:groups=sets.weir.dev,resources=resourcesets,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=sets.weir.dev,resources=resourcesets/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=sets.weir.dev,resources=resourcesets/finalizers,verbs=update

// setSourceIndex indexes ResourceSets by the source they read.
const setSourceIndex = ".spec.sourceRef.set"

// setProgressRequeue is how often a rollout in progress looks at its step's objects again
// (a Kustomization it generated becoming Ready also triggers it at once).
const setProgressRequeue = 5 * time.Second

// ResourceSetReconciler renders ResourceSets and applies their objects in steps.
type ResourceSetReconciler struct {
	client.Client
	EventRecorder events.Recorder
	// ControllerName is the field manager of applies and status patches.
	ControllerName string
	// Artifacts fetches and shares extracted source artifacts; SetupWithManager makes one over
	// Fetcher when it is nil.
	Artifacts *artifact.Cache
	Fetcher   *artifact.Fetcher
	// Identities gives the client a set applies as (spec.serviceAccountName).
	Identities *identity.Resolver
	// Owners checks whether another owner holds an object (kustomization_ownership.go); its
	// Client, OwnerReader and SecretReader are used.
	Owners *KustomizationReconciler
	// NoCrossNamespaceRefs refuses sources in other namespaces.
	NoCrossNamespaceRefs bool
	// DependencyRequeue is how long to wait for a source that is not ready.
	DependencyRequeue time.Duration
	// MaxObjects bounds the objects of one set; 0 means DefaultMaxObjects.
	MaxObjects int
	// Intervals raises spec.interval to --min-interval and jitters it; nil for neither.
	Intervals *app.Intervals
	// Backoff paces the retries of transient failures.
	Backoff *steps.Backoff
}

// setOwnedConditions are the conditions the controller alone writes on a ResourceSet.
var setOwnedConditions = append([]string{meta.ReadyCondition, meta.ReconcilingCondition, meta.StalledCondition}, setNegative...)

// setNegative are ResourceSet's abnormal-true conditions; a success clears them.
var setNegative = []string{
	setsv1.ArtifactFailedCondition, setsv1.RenderFailedCondition, setsv1.ApplyFailedCondition, setsv1.RolloutStoppedCondition,
}

// SetupWithManager registers the reconciler: its sets, the sources they read, and the
// Kustomizations they generate (one becoming Ready moves a rollout on).
func (r *ResourceSetReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrent int) error {
	if r.Backoff == nil {
		r.Backoff = steps.NewBackoff(runtimectrl.RateLimiterOptions{})
	}
	if r.Artifacts == nil {
		cache, err := newArtifactCache(mgr, r.Fetcher, "weir-set-artifacts-")
		if err != nil {
			return err
		}
		r.Artifacts = cache
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &setsv1.ResourceSet{}, setSourceIndex, func(o client.Object) []string {
		s := o.(*setsv1.ResourceSet)
		if s.Spec.SourceRef == nil {
			return nil
		}
		return []string{sourceKey(s.Spec.SourceRef.Kind, refNamespace(s.Spec.SourceRef.Namespace, s.Namespace), s.Spec.SourceRef.Name)}
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("resourceset").
		For(&setsv1.ResourceSet{}, builder.WithPredicates(predicates.Default())).
		Watches(&sourcev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.setsUsing(sourcev1.GitRepositoryKind)),
			builder.WithPredicates(predicates.ArtifactChanged{})).
		Watches(&sourcev1.OCIRepository{}, handler.EnqueueRequestsFromMapFunc(r.setsUsing(sourcev1.OCIRepositoryKind)),
			builder.WithPredicates(predicates.ArtifactChanged{})).
		Watches(&kustomizev1.Kustomization{}, handler.EnqueueRequestsFromMapFunc(generatingSet)).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrent, RateLimiter: r.Backoff}).
		Complete(r)
}

// setsUsing maps a source of the kind to the ResourceSets that render it.
func (r *ResourceSetReconciler) setsUsing(kind string) handler.MapFunc {
	return predicates.RequestsByIndex[setsv1.ResourceSetList](r.Client, setSourceIndex, func(o client.Object) string {
		return sourceKey(kind, o.GetNamespace(), o.GetName())
	}, predicates.AllNamespaces)
}

// generatingSet maps a generated object to the set its ownership labels name.
func generatingSet(_ context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	name, ns := l[setsv1.OwnerNameLabel], l[setsv1.OwnerNamespaceLabel]
	if name == "" || ns == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}}}
}

// Reconcile renders one ResourceSet and rolls its objects out.
func (r *ResourceSetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &setsv1.ResourceSet{}
	sc := &setScope{obj: obj, now: time.Now()}
	defer sc.cleanup()
	frame := steps.Frame[*setsv1.ResourceSet]{
		Reader: r.Client, Client: r.Client, FieldOwner: r.ControllerName,
		OwnedConditions: setOwnedConditions,
		Recorder:        r.EventRecorder, Intervals: r.Intervals, Backoff: r.Backoff,
		// Its objects may still recover from a stopped rollout; look again at the interval.
		RequeueStalled: func(o steps.Outcome) bool { return o.Reason == setsv1.RolloutStoppedReason },
	}
	return frame.Reconcile(ctx, req, obj, steps.Hooks[*setsv1.ResourceSet]{
		Finalize: r.finalizeSet,
		Steps: func(ctx context.Context) error {
			return steps.Run(ctx, sc,
				steps.Step[*setScope]{Name: "source", Run: r.reconcileSetSource},
				steps.Step[*setScope]{Name: "render", Run: r.reconcileRender},
				steps.Step[*setScope]{Name: "rollout", Run: r.reconcileRollout},
				steps.Step[*setScope]{Name: "prune", Run: r.reconcileSetPrune},
				steps.Step[*setScope]{Name: "report", Run: r.reconcileRenderFailures},
			)
		},
		Summarize: func(outcome steps.Outcome) { summarizeSet(sc, outcome) },
		Metadata:  func() map[string]string { return setMetadata(sc) },
		Announce:  func(steps.Outcome, bool) (string, string) { return setsv1.ProgressingReason, setChangeMessage(sc) },
	})
}
