package controller

import (
	"fmt"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/pkg/steps"
)

// alertSummary is how an Alert presents its outcome: Ready once its Provider is Ready and its
// expressions compile. A suspended Alert is still checked; its message says events are dropped.
func alertSummary(a *notificationv1.Alert) steps.Summary {
	msg := fmt.Sprintf("Alert forwards to Provider '%s'", a.Spec.ProviderRef.Name)
	if a.Spec.Suspend {
		msg = "Alert is valid but suspended: matching events are dropped"
	}
	return steps.Summary{SuccessReason: meta.SucceededReason, SuccessMessage: msg}
}

// applyAlertStatus sets a's Ready, Reconciling and Stalled conditions for outcome o; the
// frame records observedGeneration and lastHandledReconcileAt.
func applyAlertStatus(a *notificationv1.Alert, o steps.Outcome) {
	alertSummary(a).Apply(a, o)
}
