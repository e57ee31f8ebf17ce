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

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/receiver"
	"weir.dev/pkg/app"
	"weir.dev/pkg/predicates"
	"weir.dev/pkg/steps"
)

// ReceiverReconciler checks each Receiver's resources, filter and token, and publishes the
// webhook path derived from the token.
type ReceiverReconciler struct {
	client.Client
	EventRecorder events.AnnotatedEventRecorder
	// Intervals raises spec.interval to --min-interval and jitters the periodic requeue;
	// nil for neither.
	Intervals *app.Intervals
	// NoCrossNamespaceRefs refuses resources in other namespaces.
	NoCrossNamespaceRefs bool
}

// receiverScope is what the Receiver steps share.
type receiverScope struct {
	// receiver is the object being reconciled (set by Reconcile).
	receiver *notificationv1.Receiver
	// path is the webhook path (set by reconcileToken).
	path string
}

// SetupWithManager registers the reconciler; a change to a Receiver's Secret reconciles it.
func (r *ReceiverReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &notificationv1.Receiver{}, secretIndex,
		func(o client.Object) []string { return []string{o.(*notificationv1.Receiver).Spec.SecretRef.Name} }); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&notificationv1.Receiver{}, builder.WithPredicates(predicates.Default())).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(referrers(r.Client, &notificationv1.ReceiverList{}))).
		WithOptions(opts).
		Complete(r)
}

// Reconcile checks a Receiver and records the result and its webhook path in its status.
func (r *ReceiverReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &notificationv1.Receiver{}
	scope := &receiverScope{receiver: obj}
	return frame[*notificationv1.Receiver](r.Client, r.EventRecorder, r.Intervals).Reconcile(ctx, req, obj, steps.Hooks[*notificationv1.Receiver]{
		Steps: func(ctx context.Context) error {
			return steps.Run(ctx, scope,
				steps.Step[*receiverScope]{Name: "check resources", Run: r.reconcileResources},
				steps.Step[*receiverScope]{Name: "compile filter", Run: r.reconcileFilter},
				steps.Step[*receiverScope]{Name: "read token", Run: r.reconcileToken},
				steps.Step[*receiverScope]{Name: "read ID token settings", Run: r.reconcileIDTokenSettings},
			)
		},
		Summarize: func(o steps.Outcome) { applyReceiverStatus(obj, o, scope.path) },
		Announce:  steps.BecameReady(obj),
	})
}

// reconcileResources stalls with AccessDenied when a resource names another namespace while
// cross-namespace references are refused.
func (r *ReceiverReconciler) reconcileResources(_ context.Context, s *receiverScope) error {
	if !r.NoCrossNamespaceRefs {
		return nil
	}
	return refuseCrossNamespace("spec.resources", s.receiver.Namespace, s.receiver.Spec.Resources)
}

// reconcileFilter stalls with InvalidSpec when spec.resourceFilter does not compile to a
// boolean.
func (r *ReceiverReconciler) reconcileFilter(_ context.Context, s *receiverScope) error {
	if s.receiver.Spec.ResourceFilter == "" {
		return nil
	}
	if _, err := receiver.CompileFilter(s.receiver.Spec.ResourceFilter); err != nil {
		return steps.Stalled(meta.InvalidSpecReason, err)
	}
	return nil
}

// reconcileToken reads the token and computes the webhook path into the scope. Stalls with
// TokenNotFound when the Secret or its key is missing.
func (r *ReceiverReconciler) reconcileToken(ctx context.Context, s *receiverScope) error {
	token, err := receiver.ReadToken(ctx, r.Client, s.receiver)
	if err != nil {
		return err
	}
	s.path = s.receiver.GetWebhookPath(token)
	return nil
}
