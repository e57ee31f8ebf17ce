package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/match"
	"weir.dev/pkg/app"
	"weir.dev/pkg/predicates"
	"weir.dev/pkg/steps"
)

// providerIndex indexes Alerts by the name of their Provider.
const providerIndex = ".spec.providerRef.name"

// AlertReconciler checks that each Alert's event sources are allowed, its expressions compile
// and its Provider is Ready.
type AlertReconciler struct {
	client.Client
	EventRecorder events.AnnotatedEventRecorder
	// Intervals raises spec.interval to --min-interval and jitters the periodic requeue;
	// nil for neither.
	Intervals *app.Intervals
	// NoCrossNamespaceRefs refuses event sources in other namespaces.
	NoCrossNamespaceRefs bool
}

// alertScope is what the Alert steps share.
type alertScope struct {
	// alert is the object being reconciled (set by Reconcile).
	alert *notificationv1.Alert
}

// SetupWithManager registers the reconciler; any change to a Provider, its status included,
// reconciles the Alerts that use it.
func (r *AlertReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &notificationv1.Alert{}, providerIndex,
		func(o client.Object) []string { return []string{o.(*notificationv1.Alert).Spec.ProviderRef.Name} }); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&notificationv1.Alert{}, builder.WithPredicates(predicates.Default())).
		Watches(&notificationv1.Provider{}, handler.EnqueueRequestsFromMapFunc(r.alertsOfProvider)).
		WithOptions(opts).
		Complete(r)
}

// Reconcile checks an Alert and records the result in its status.
func (r *AlertReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &notificationv1.Alert{}
	return frame[*notificationv1.Alert](r.Client, r.EventRecorder, r.Intervals).Reconcile(ctx, req, obj, steps.Hooks[*notificationv1.Alert]{
		Steps: func(ctx context.Context) error {
			return steps.Run(ctx, &alertScope{alert: obj},
				steps.Step[*alertScope]{Name: "check event sources", Run: r.reconcileSources},
				steps.Step[*alertScope]{Name: "compile expressions", Run: r.reconcileExpressions},
				steps.Step[*alertScope]{Name: "check provider", Run: r.reconcileProvider},
			)
		},
		Summarize: func(o steps.Outcome) { applyAlertStatus(obj, o) },
		Announce:  steps.BecameReady(obj),
	})
}

// reconcileSources stalls with AccessDenied when an event source names another namespace
// while cross-namespace references are refused.
func (r *AlertReconciler) reconcileSources(_ context.Context, s *alertScope) error {
	if !r.NoCrossNamespaceRefs {
		return nil
	}
	return refuseCrossNamespace("spec.eventSources", s.alert.Namespace, s.alert.Spec.EventSources)
}

// reconcileExpressions stalls with InvalidSpec when an inclusion or exclusion expression does
// not compile.
func (r *AlertReconciler) reconcileExpressions(_ context.Context, s *alertScope) error {
	if _, err := match.Compile(s.alert); err != nil {
		return steps.Stalled(meta.InvalidSpecReason, err)
	}
	return nil
}

// reconcileProvider waits (DependencyNotReady) while the Provider is missing or not Ready.
func (r *AlertReconciler) reconcileProvider(ctx context.Context, s *alertScope) error {
	name := s.alert.Spec.ProviderRef.Name
	p := &notificationv1.Provider{}
	err := r.Get(ctx, client.ObjectKey{Namespace: s.alert.Namespace, Name: name}, p)
	if apierrors.IsNotFound(err) {
		return steps.Waiting(meta.DependencyNotReadyReason, dependencyRequeue, fmt.Errorf("Provider '%s' not found", name))
	}
	if err != nil {
		return err
	}
	if !conditions.IsReady(p) || p.Status.ObservedGeneration != p.Generation {
		return steps.Waiting(meta.DependencyNotReadyReason, dependencyRequeue, fmt.Errorf("Provider '%s' is not ready", name))
	}
	return nil
}

// alertsOfProvider maps a Provider to the Alerts in its namespace that use it.
func (r *AlertReconciler) alertsOfProvider(ctx context.Context, p client.Object) []reconcile.Request {
	return predicates.RequestsByIndex[notificationv1.AlertList](r.Client, providerIndex, predicates.Name, predicates.SameNamespace)(ctx, p)
}
