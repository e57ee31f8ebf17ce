package v1

const (
	// ForceRequestAnnotation, set together with reconcile.weir.dev/requestedAt to the same new
	// value, forces a one-off install or upgrade even if the release is up to date or its
	// retries are used up. Echoed in status.lastHandledForceAt.
	ForceRequestAnnotation = "reconcile.weir.dev/forceAt"

	// ResetRequestAnnotation, set together with reconcile.weir.dev/requestedAt to the same new
	// value, resets the failure counters so exhausted retries start again. Echoed in
	// status.lastHandledResetAt.
	ResetRequestAnnotation = "reconcile.weir.dev/resetAt"
)
