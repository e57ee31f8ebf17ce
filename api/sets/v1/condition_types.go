package v1

// Condition types of ResourceSet, beyond meta's Ready, Reconciling and Stalled.
// Negative-polarity ("abnormal-true") conditions are present only while true.
const (
	// ArtifactFailedCondition (negative): the source named by spec.sourceRef is missing, has no
	// artifact, or its artifact could not be fetched.
	ArtifactFailedCondition = "ArtifactFailed"

	// RenderFailedCondition (negative): the template did not render for some inputs; the message
	// names them. Their objects keep their previous spec; the other inputs are applied.
	RenderFailedCondition = "RenderFailed"

	// ApplyFailedCondition (negative): applying or pruning generated objects failed.
	ApplyFailedCondition = "ApplyFailed"

	// RolloutStoppedCondition (negative): a step of spec.strategy had more failed objects than
	// its failureThreshold; later steps keep their previous spec until a new revision.
	RolloutStoppedCondition = "RolloutStopped"
)

// Reasons used by ResourceSet, beyond meta's shared reasons.
const (
	// GenerateFailedReason: the inputs could not be generated (a bad glob, an unreadable file).
	GenerateFailedReason = "GenerateFailed"
	// RenderFailedReason: the template did not render for one or more inputs.
	RenderFailedReason = "RenderFailed"
	// ApplyFailedReason: the server-side apply of generated objects failed.
	ApplyFailedReason = "ApplyFailed"
	// PruneFailedReason: deleting objects whose input disappeared failed.
	PruneFailedReason = "PruneFailed"
	// OwnershipConflictReason: a generated object is owned by another set, Kustomization or
	// HelmRelease; that input was not applied.
	OwnershipConflictReason = "OwnershipConflict"
	// TooManyObjectsReason: the inputs or generated objects exceed the controller's bounds.
	TooManyObjectsReason = "TooManyObjects"
	// RolloutStoppedReason: a step failed beyond its failureThreshold.
	RolloutStoppedReason = "RolloutStopped"
	// ProgressingReason: a step is waiting for its objects to become Ready.
	ProgressingReason = "Progressing"
	// ReconciliationSucceededReason: every input rendered and every step is Ready.
	ReconciliationSucceededReason = "ReconciliationSucceeded"
)
