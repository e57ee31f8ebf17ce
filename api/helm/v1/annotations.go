package v1

// Labels that mark what a HelmRelease owns: the HelmChart made from spec.chart, and every
// revision of its Helm release (stored on Helm's release records). An object or release whose
// labels name another HelmRelease is never changed or deleted.
const (
	// OwnerNameLabel is the name of the owning HelmRelease.
	OwnerNameLabel = "helm.weir.dev/name"
	// OwnerNamespaceLabel is the namespace of the owning HelmRelease.
	OwnerNamespaceLabel = "helm.weir.dev/namespace"
)

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
