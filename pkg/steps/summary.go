package steps

import (
	"context"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/api/meta"
)

// Summary says how a kind presents an outcome in its conditions.
type Summary struct {
	// Negative lists the kind's negative-polarity conditions. A success clears them all:
	// every step passed, so none is abnormal.
	Negative []string
	// SuccessReason and SuccessMessage are Ready's reason and message on success.
	SuccessReason, SuccessMessage string
}

// Apply sets Ready, Reconciling and Stalled on obj for o, following kstatus: Ready always,
// Reconciling and Stalled only while true.
func (s Summary) Apply(obj conditions.Setter, o Outcome) {
	switch o.Kind {
	case Succeeded:
		for _, t := range s.Negative {
			conditions.Delete(obj, t)
		}
		conditions.Delete(obj, meta.ReconcilingCondition)
		conditions.Delete(obj, meta.StalledCondition)
		reason := s.SuccessReason
		if reason == "" {
			reason = meta.SucceededReason
		}
		conditions.MarkTrue(obj, meta.ReadyCondition, reason, "%s", s.SuccessMessage)
	case Stalling:
		conditions.Delete(obj, meta.ReconcilingCondition)
		conditions.MarkStalled(obj, o.Reason, "%s", o.Message)
		conditions.MarkFalse(obj, meta.ReadyCondition, o.Reason, "%s", o.Message)
	case Waits:
		conditions.Delete(obj, meta.StalledCondition)
		conditions.MarkReconciling(obj, meta.ProgressingWithRetryReason, "%s", o.Message)
		conditions.MarkFalse(obj, meta.ReadyCondition, o.Reason, "%s", o.Message)
	default:
		conditions.Delete(obj, meta.StalledCondition)
		conditions.MarkReconciling(obj, meta.ProgressingWithRetryReason, "%s", o.Message)
		conditions.MarkFalse(obj, meta.ReadyCondition, o.Reason, "%s", o.Message)
	}
}

// IsObservation reports whether o reflects a full look at the current generation, so that
// status.observedGeneration may advance: a success or a stall.
func (o Outcome) IsObservation() bool { return o.Kind == Succeeded || o.Kind == Stalling }

// Result returns what controller-runtime should do after o: requeue after interval on success,
// after o.RequeueAfter while waiting, nothing while stalled (a change to the object triggers it),
// and the error itself when transient, for exponential backoff.
func Result(o Outcome, interval time.Duration) (ctrl.Result, error) {
	switch o.Kind {
	case Succeeded:
		return ctrl.Result{RequeueAfter: interval}, nil
	case Waits:
		return ctrl.Result{RequeueAfter: o.RequeueAfter}, nil
	case Stalling:
		return ctrl.Result{}, nil
	default:
		return ctrl.Result{}, o.Err
	}
}

// ActionReconcile is the action of the events the runner records.
const ActionReconcile = "Reconcile"

// Event records a warning event for a stalled or transient outcome, with metadata (e.g. the
// revision) for notification-controller. Successes and waits are the caller's to announce,
// since only it knows whether anything changed.
func Event(rec events.AnnotatedEventRecorder, obj runtime.Object, o Outcome, metadata map[string]string) {
	if o.Kind == Stalling || o.Kind == Transient {
		rec.AnnotatedEventf(obj, nil, metadata, corev1.EventTypeWarning, o.Reason, ActionReconcile, "%s", o.Message)
	}
}

// LogStalled logs a stalled outcome with ctx's logger, which names the object: it is not
// retried until the object or what it refers to changes, so the log says so once, where an
// operator looks. (Transient failures are logged by their retry: Backoff.Retry, or
// controller-runtime's "Reconciler error".)
func LogStalled(ctx context.Context, o Outcome) {
	if o.Kind == Stalling {
		log.FromContext(ctx).Info("reconcile failed and stalled: not retried until the object or what it refers to changes",
			"reason", o.Reason, "error", o.Message)
	}
}
