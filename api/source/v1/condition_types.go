package v1

// Condition types of the source kinds, beyond meta's Ready, Reconciling and Stalled.
// Negative-polarity ("abnormal-true") conditions are present only while true;
// positive ones say what was achieved.
const (
	// ArtifactInStorageCondition (positive): the artifact in status is in storage and served.
	ArtifactInStorageCondition = "ArtifactInStorage"

	// SourceVerifiedCondition (positive): the revision's signature was verified.
	// Present only when spec.verify is set.
	SourceVerifiedCondition = "SourceVerified"

	// FetchFailedCondition (negative): the upstream could not be fetched.
	FetchFailedCondition = "FetchFailed"

	// StorageOperationFailedCondition (negative): writing, reading or collecting artifacts failed.
	StorageOperationFailedCondition = "StorageOperationFailed"

	// IncludeUnavailableCondition (negative): an included GitRepository has no artifact yet.
	IncludeUnavailableCondition = "IncludeUnavailable"

	// BuildFailedCondition (negative): a HelmChart could not be packaged, or an
	// ArtifactGenerator's copy operations could not build an artifact.
	BuildFailedCondition = "BuildFailed"

	// SourceUnavailableCondition (negative): a source an ArtifactGenerator reads is missing,
	// not Ready or has no artifact yet.
	SourceUnavailableCondition = "SourceUnavailable"
)

// Reasons used by the source kinds.
const (
	// GitOperationFailedReason: a clone, fetch or checkout failed.
	GitOperationFailedReason = "GitOperationFailed"
	// InvalidReferenceReason: spec.ref names something that can never be a valid Git reference.
	InvalidReferenceReason = "InvalidReference"
	// ReferenceNotFoundReason: the remote has no reference matching spec.ref.
	ReferenceNotFoundReason = "ReferenceNotFound"
	// ProviderNotSupportedReason: spec.provider names a cloud (aws, azure, gcp) whose workload
	// identity this build cannot log in with (OCIRepository, HelmRepository).
	ProviderNotSupportedReason = "ProviderNotSupported"
	// URLInvalidReason: the URL could not be parsed or uses a scheme the kind does not support.
	URLInvalidReason = "URLInvalid"
	// VerificationFailedReason: signature verification failed.
	VerificationFailedReason = "VerificationFailed"
	// StorageOperationFailedReason: the artifact could not be stored or collected.
	StorageOperationFailedReason = "StorageOperationFailed"
	// IndexationFailedReason: a Helm repository index could not be fetched or parsed.
	IndexationFailedReason = "IndexationFailed"
	// ChartPullFailedReason: a chart could not be pulled.
	ChartPullFailedReason = "ChartPullFailed"
	// ChartPackageFailedReason: a chart could not be packaged.
	ChartPackageFailedReason = "ChartPackageFailed"
	// OCIPullFailedReason: an OCI artifact could not be pulled.
	OCIPullFailedReason = "OCIArtifactPullFailed"
	// OCILayerOperationFailedReason: the selected layer of an OCI artifact could not be found,
	// extracted or copied.
	OCILayerOperationFailedReason = "OCIArtifactLayerOperationFailed"
	// ChartPullSucceededReason: a chart was pulled from a HelmRepository.
	ChartPullSucceededReason = "ChartPullSucceeded"
	// ChartPackageSucceededReason: a chart was packaged from a GitRepository or OCIRepository artifact.
	ChartPackageSucceededReason = "ChartPackageSucceeded"
	// NewArtifactReason: a new artifact was stored.
	NewArtifactReason = "NewArtifact"
	// IncludePathInvalidReason: an include's fromPath or toPath does not name a path inside its
	// tree: it is absolute, has "..", is missing, or passes through a symlink that leads out.
	IncludePathInvalidReason = "IncludePathInvalid"
	// SourceNotReadyReason: a source an ArtifactGenerator reads is missing, not Ready or has
	// no artifact yet; the message names the source and the artifact waiting for it.
	SourceNotReadyReason = "SourceNotReady"
	// UnknownAliasReason: a copy operation or revision names an alias that spec.sources does
	// not define; the message names the artifact and the operation.
	UnknownAliasReason = "UnknownAlias"
	// CopyNoMatchReason: a copy operation's `from` matches no file of its source's artifact;
	// the message names the artifact, the operation and the source revision.
	CopyNoMatchReason = "CopyNoMatch"
	// CopyFailedReason: a copy operation is invalid (a path leaving the artifact, a bad glob)
	// or cannot be carried out (several files to one file, a YAML file that does not merge).
	CopyFailedReason = "CopyFailed"
	// OwnershipConflictReason: an ExternalArtifact of the name an ArtifactGenerator would
	// produce already exists and belongs to another owner.
	OwnershipConflictReason = "OwnershipConflict"
	// ArtifactDigestMismatchReason (event): a stored artifact's bytes no longer match the digest
	// recorded in status; it is built or fetched again.
	ArtifactDigestMismatchReason = "ArtifactDigestMismatch"
)
