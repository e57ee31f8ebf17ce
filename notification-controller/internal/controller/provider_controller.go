package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"

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
func (r *ProviderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &notificationv1.Provider{}
	return frame[*notificationv1.Provider](r.Client, r.EventRecorder, r.Intervals).Reconcile(ctx, req, obj, steps.Hooks[*notificationv1.Provider]{
		Steps: func(ctx context.Context) error {
			return steps.Run(ctx, &providerScope{provider: obj},
				steps.Step[*providerScope]{Name: "build notifier", Run: r.reconcileNotifier},
			)
		},
		Summarize: func(o steps.Outcome) { applyProviderStatus(obj, o) },
		Announce:  steps.BecameReady(obj),
	})
}

// reconcileNotifier reads the Provider's Secrets and builds its notifier, as the event server
// will. Stalls with TokenNotFound, SecretNotFound or InvalidSpec; API errors are transient.
func (r *ProviderReconciler) reconcileNotifier(ctx context.Context, s *providerScope) error {
	_, err := provider.Build(ctx, r.Client, r.Clients, s.provider)
	return err
}
