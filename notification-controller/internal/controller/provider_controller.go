package controller

import (
	"context"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/patch"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/provider"
	"weir.dev/pkg/app"
	"weir.dev/pkg/predicates"
	"weir.dev/pkg/steps"
)

// ProviderReconciler checks that each Provider's Secrets hold what its type needs.
type ProviderReconciler struct {
	client.Client
	EventRecorder events.AnnotatedEventRecorder
	// Intervals raises spec.interval to --min-interval and jitters the periodic requeue;
	// nil for neither.
	Intervals *app.Intervals
	// Clients is shared with the event server, so checking a Provider warms its HTTP client.
	Clients *provider.Clients
}

// providerScope is what the Provider steps share.
type providerScope struct {
	// provider is the object being reconciled (set by Reconcile).
	provider *notificationv1.Provider
}

// SetupWithManager registers the reconciler; a change to a Secret a Provider references
// reconciles that Provider.
func (r *ProviderReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &notificationv1.Provider{}, secretIndex,
		func(o client.Object) []string { return provider.SecretNames(o.(*notificationv1.Provider)) }); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&notificationv1.Provider{}, builder.WithPredicates(predicates.Default())).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(referrers(r.Client, &notificationv1.ProviderList{}))).
		WithOptions(opts).
		Complete(r)
}

// Reconcile checks a Provider and records the result in its status.
func (r *ProviderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := &notificationv1.Provider{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// A Provider holds nothing outside its own object, so deletion needs no finalizer.
	if !obj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	patcher := patch.NewSerialPatcher(obj, r.Client)
	wasReady := conditions.IsReady(obj)
	defer func() {
		o := steps.Classify(retErr, meta.FailedReason)
		applyProviderStatus(obj, o)
		result, retErr = finish(ctx, r.EventRecorder, patcher, obj, wasReady, o, r.Intervals, obj.GetRequeueAfter().Duration)
	}()
	return ctrl.Result{}, steps.Run(ctx, &providerScope{provider: obj},
		steps.Step[*providerScope]{Name: "build notifier", Run: r.reconcileNotifier},
	)
}

// reconcileNotifier reads the Provider's Secrets and builds its notifier, as the event server
// will. Stalls with TokenNotFound, SecretNotFound or InvalidSpec; API errors are transient.
func (r *ProviderReconciler) reconcileNotifier(ctx context.Context, s *providerScope) error {
	_, err := provider.Build(ctx, r.Client, r.Clients, s.provider)
	return err
}
