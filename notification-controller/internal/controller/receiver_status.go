package controller

import (
	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/pkg/steps"
)

// receiverSummary is how a Receiver presents its outcome. The message never holds the token or
// the path: the path is in status.webhookPath.
func receiverSummary(r *notificationv1.Receiver) steps.Summary {
	msg := "Receiver is ready at status.webhookPath"
	if r.Spec.Suspend {
		msg = "Receiver is ready but suspended: requests are answered and nothing is reconciled"
	}
	return steps.Summary{SuccessReason: meta.SucceededReason, SuccessMessage: msg}
}

// applyReceiverStatus sets r's conditions for outcome o (the frame records observedGeneration
// and lastHandledReconcileAt), and its webhook path: path after a success; none after a stall, when the Receiver
// cannot accept requests; unchanged after a transient failure or a wait.
func applyReceiverStatus(r *notificationv1.Receiver, o steps.Outcome, path string) {
	receiverSummary(r).Apply(r, o)
	switch o.Kind {
	case steps.Succeeded:
		r.Status.WebhookPath = path
	case steps.Stalling:
		r.Status.WebhookPath = ""
	}
}
