package meta

// Condition types shared by every kind. Each kind's condition_types.go adds its own.
//
// Polarity follows kstatus: Ready is present always and true when the object is in the desired
// state; Reconciling and Stalled are "abnormal-true" and present only while true.
const (
	// ReadyCondition (positive, always present) summarises the object's state.
	ReadyCondition = "Ready"

	// ReconcilingCondition (negative, present only while true) says the controller is working
	// towards a new desired state.
	ReconcilingCondition = "Reconciling"

	// StalledCondition (negative, present only while true) says reconciliation cannot progress
	// without a change from the user.
	StalledCondition = "Stalled"
)

// Reasons shared by every kind.
const (
	// SucceededReason: the reconciliation succeeded.
	SucceededReason = "Succeeded"

	// FailedReason: the reconciliation failed for a reason no more specific one covers.
	FailedReason = "Failed"

	// ProgressingReason: the reconciliation is in progress.
	ProgressingReason = "Progressing"

	// ProgressingWithRetryReason: a previous attempt failed and the controller is retrying.
	ProgressingWithRetryReason = "ProgressingWithRetry"

	// SuspendedReason: the object is suspended and will not be reconciled.
	SuspendedReason = "Suspended"

	// DependencyNotReadyReason: a dependency is missing or not Ready yet.
	DependencyNotReadyReason = "DependencyNotReady"

	// InvalidSpecReason: the spec has a value the controller cannot act on.
	InvalidSpecReason = "InvalidSpec"

	// AccessDeniedReason: a reference crosses a boundary the controller's flags forbid.
	AccessDeniedReason = "AccessDenied"

	// AuthenticationFailedReason: credentials were missing, malformed or rejected.
	AuthenticationFailedReason = "AuthenticationFailed"

	// ArtifactFailedReason: an upstream artifact could not be fetched or verified.
	ArtifactFailedReason = "ArtifactFailed"

	// HealthCheckFailedReason: an applied object did not become healthy within the timeout.
	HealthCheckFailedReason = "HealthCheckFailed"
)
