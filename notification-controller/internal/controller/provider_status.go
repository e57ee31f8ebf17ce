package controller

import (
	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/pkg/steps"
)

// providerSummary is how a Provider presents its outcome: Ready once its Secrets hold what its
// type needs. A suspended Provider is still checked; its message says events are dropped.
func providerSummary(p *notificationv1.Provider) steps.Summary {
	msg := "Provider is ready"
	if p.Spec.Suspend {
		msg = "Provider is ready but suspended: events routed to it are dropped"
	}
	return steps.Summary{SuccessReason: meta.SucceededReason, SuccessMessage: msg}
}

// applyProviderStatus sets p's Ready, Reconciling and Stalled conditions for outcome o;
// the frame records observedGeneration and lastHandledReconcileAt.
func applyProviderStatus(p *notificationv1.Provider, o steps.Outcome) {
	providerSummary(p).Apply(p, o)
}
