package v1

// Condition types of Kustomization, beyond meta's Ready, Reconciling and Stalled.
// Negative-polarity ("abnormal-true") conditions are present only while true;
// the positive one says what was achieved.
const (
	// HealthyCondition (positive): the health checks passed. Present only when spec.wait or
	// spec.healthChecks is set; False when they failed or timed out.
	HealthyCondition = "Healthy"

	// ArtifactFailedCondition (negative): the source is missing, not Ready, or its artifact
	// could not be fetched or verified.
	ArtifactFailedCondition = "ArtifactFailed"

	// DependencyNotReadyCondition (negative): an object in spec.dependsOn is missing or not Ready.
	DependencyNotReadyCondition = "DependencyNotReady"

	// BuildFailedCondition (negative): kustomize build, decryption or substitution failed.
	BuildFailedCondition = "BuildFailed"

	// ApplyFailedCondition (negative): the server-side apply of the built objects failed.
	ApplyFailedCondition = "ApplyFailed"

	// PruneFailedCondition (negative): deleting objects no longer built failed.
	PruneFailedCondition = "PruneFailed"

	// HealthCheckFailedCondition (negative): an applied object did not become healthy within
	// the timeout.
	HealthCheckFailedCondition = "HealthCheckFailed"

	// HookFailedCondition (negative): a hook (kustomize.weir.dev/hook) failed or did not finish
	// within spec.timeout; the message names it and gives the Job's reason.
	HookFailedCondition = "HookFailed"
)

// Reasons used by Kustomization, beyond meta's shared reasons.
const (
	// ReconciliationSucceededReason: the objects were built, applied, pruned and are healthy.
	ReconciliationSucceededReason = "ReconciliationSucceeded"
	// BuildFailedReason: kustomize build failed; the message names the file at fault.
	BuildFailedReason = "BuildFailed"
	// DecryptionFailedReason: a SOPS-encrypted value could not be decrypted.
	DecryptionFailedReason = "DecryptionFailed"
	// PostBuildFailedReason: variable substitution failed.
	PostBuildFailedReason = "PostBuildFailed"
	// ApplyFailedReason: the server-side apply failed; the message names the object at fault.
	ApplyFailedReason = "ApplyFailed"
	// PruneFailedReason: deleting an object no longer built failed.
	PruneFailedReason = "PruneFailed"
	// EmptyPruneRefusedReason: the new desired set is empty while the previous inventory is not,
	// and spec.allowEmptyPrune is not set, so nothing was pruned.
	EmptyPruneRefusedReason = "EmptyPruneRefused"
	// HealthCheckCanceledReason: the health check was canceled because a new source revision or
	// a new generation arrived during the wait; the new one is reconciled at once.
	HealthCheckCanceledReason = "HealthCheckCanceled"
	// DriftDetectedReason: applied objects were changed in the cluster by another manager.
	DriftDetectedReason = "DriftDetected"
	// ArtifactNotFoundReason: the source has no artifact yet.
	ArtifactNotFoundReason = "ArtifactNotFound"
	// TooManyObjectsReason (stalled): the build yields, or reads, more objects than the
	// controller's --max-objects-per-unit allows; nothing was applied.
	TooManyObjectsReason = "TooManyObjects"
	// BuildTimeoutReason: the build did not finish within spec.timeout; nothing was applied.
	BuildTimeoutReason = "BuildTimeout"
	// OwnershipConflictReason: an object the build yields is owned by another Kustomization
	// (or a HelmRelease) that still applies it; the message names the object and its owner.
	// Nothing was applied; the run is retried, so the object is adopted once its owner lets go.
	OwnershipConflictReason = "OwnershipConflict"
	// OwnershipHandedOverReason (event): an object no longer built was left in place for the
	// Kustomization that builds it now and was refused it, instead of being pruned.
	OwnershipHandedOverReason = "OwnershipHandedOver"
	// HookFailedReason: a hook failed or timed out; the message names it and gives the Job's
	// failure reason and message. A failing pre-apply hook stops the apply.
	HookFailedReason = "HookFailed"
	// InvalidAnnotationReason (stalled): an object's kustomize.weir.dev/wave, /hook or
	// /hook-delete-policy annotation has a value the controller does not know; nothing was
	// applied. The message names the object and the annotation.
	InvalidAnnotationReason = "InvalidAnnotation"
	// WaveFailedReason: a wave's objects did not become healthy within spec.timeout, so the
	// later waves were not applied; the message names the wave and the objects.
	WaveFailedReason = "WaveFailed"
	// HealthCheckInProgressReason: the revision is applied and its objects are being waited
	// for; Ready is Unknown and says which objects, in which state.
	HealthCheckInProgressReason = "HealthCheckInProgress"
)
