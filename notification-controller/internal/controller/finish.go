package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/patch"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/pkg/app"
	"weir.dev/pkg/steps"
)

// ControllerName is the field owner of status patches and the reporting controller of events.
const ControllerName = "notification-controller"

// ownedConditions are the conditions the reconcilers set; the patch helper overwrites them.
var ownedConditions = []string{meta.ReadyCondition, meta.ReconcilingCondition, meta.StalledCondition}

// dependencyRequeue is how soon an object waiting for a dependency is checked again, besides
// the watch that triggers it when the dependency changes.
const dependencyRequeue = 30 * time.Second

type reconciled interface {
	client.Object
	conditions.Setter
}

// finish patches obj's status (already computed by the kind's status function), records the
// outcome's events and returns what controller-runtime should do next: interval is
// spec.interval, raised to iv's floor, and a success comes back after it, jittered. wasReady is
// whether obj was Ready before this reconcile: becoming Ready is announced with a normal event.
func finish(ctx context.Context, rec events.AnnotatedEventRecorder, patcher *patch.SerialPatcher, obj reconciled,
	wasReady bool, o steps.Outcome, iv *app.Intervals, interval time.Duration) (ctrl.Result, error) {
	if err := patcher.Patch(ctx, obj, patch.WithOwnedConditions{Conditions: ownedConditions}, patch.WithFieldOwner(ControllerName)); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, errors.Join(o.Err, err)
	}
	steps.Event(rec, obj, o, nil)
	steps.LogStalled(ctx, o)
	if o.Kind == steps.Succeeded && !wasReady {
		rec.AnnotatedEventf(obj, nil, nil, corev1.EventTypeNormal, meta.SucceededReason, steps.ActionReconcile, "%s",
			conditions.GetMessage(obj, meta.ReadyCondition))
	}
	return iv.Result(o, iv.Floor(obj, "spec.interval", interval))
}

// observe records, for a status with these fields, what every kind records after a reconcile:
// observedGeneration after a real observation, and the reconcile request handled.
func observe(obj client.Object, o steps.Outcome, observedGeneration *int64, handled *meta.ReconcileRequestStatus) {
	if o.IsObservation() {
		*observedGeneration = obj.GetGeneration()
	}
	if v, ok := meta.ReconcileAnnotationValue(obj.GetAnnotations()); ok {
		handled.SetLastHandledReconcileRequest(v)
	}
}

// refuseCrossNamespace stalls with AccessDenied, naming the entry of field, when a reference
// names another namespace than own; callers use it while cross-namespace references are refused.
func refuseCrossNamespace(field, own string, refs []notificationv1.CrossNamespaceObjectReference) error {
	for i, ref := range refs {
		if ref.Namespace != "" && ref.Namespace != own {
			return steps.Stalled(meta.AccessDeniedReason, fmt.Errorf(
				"%s[%d].namespace '%s' is another namespace and cross-namespace references are disabled", field, i, ref.Namespace))
		}
	}
	return nil
}
