package v1

// Condition types of HelmRelease, beyond meta's Ready, Reconciling and Stalled.
const (
	// ReleasedCondition (positive): the last install or upgrade succeeded. False with the
	// action's failure reason when it failed; absent before the first action.
	ReleasedCondition = "Released"

	// TestSuccessCondition (positive): the tests of the current release passed. False when they
	// failed; present only when spec.test.enable is set and tests ran.
	TestSuccessCondition = "TestSuccess"

	// RemediatedCondition (negative, present only while true): a failed release was undone by a
	// rollback or uninstall. Removed by the next successful release.
	RemediatedCondition = "Remediated"
)

// Reasons used by HelmRelease, beyond meta's shared reasons.
const (
	// InstallSucceededReason: the install succeeded.
	InstallSucceededReason = "InstallSucceeded"
	// InstallFailedReason: the install failed.
	InstallFailedReason = "InstallFailed"
	// UpgradeSucceededReason: the upgrade succeeded.
	UpgradeSucceededReason = "UpgradeSucceeded"
	// UpgradeFailedReason: the upgrade failed.
	UpgradeFailedReason = "UpgradeFailed"
	// TestSucceededReason: the tests passed.
	TestSucceededReason = "TestSucceeded"
	// TestFailedReason: a test failed.
	TestFailedReason = "TestFailed"
	// RollbackSucceededReason: the rollback succeeded.
	RollbackSucceededReason = "RollbackSucceeded"
	// RollbackFailedReason: the rollback failed.
	RollbackFailedReason = "RollbackFailed"
	// UninstallSucceededReason: the uninstall succeeded.
	UninstallSucceededReason = "UninstallSucceeded"
	// UninstallFailedReason: the uninstall failed.
	UninstallFailedReason = "UninstallFailed"
	// DriftDetectedReason: objects of the release differ from its manifest.
	DriftDetectedReason = "DriftDetected"
	// InitFailedReason: the Helm action configuration or client could not be set up.
	InitFailedReason = "InitFailed"
	// GetLastReleaseFailedReason: the release's current state could not be read from storage.
	GetLastReleaseFailedReason = "GetLastReleaseFailed"
	// ValuesFailedReason: values could not be read from spec.valuesFrom or merged.
	ValuesFailedReason = "ValuesFailed"
	// ChartFailedReason: the chart could not be loaded from the artifact.
	ChartFailedReason = "ChartFailed"
	// UnlockedReason: a release left pending by an interrupted action was marked failed.
	UnlockedReason = "Unlocked"
	// AdoptedReason: a HelmRelease that had not released yet found its release deployed with
	// the desired chart and values (made by Flux, helm or a HelmRelease deleted with its
	// release kept) and took it over without an upgrade: no new revision, no hook ran.
	AdoptedReason = "Adopted"
	// AdoptFailedReason: the record of a release to adopt could not be labelled as the
	// HelmRelease's.
	AdoptFailedReason = "AdoptFailed"
	// ReleaseNotOwnedReason: the release's records belong to another HelmRelease.
	ReleaseNotOwnedReason = "ReleaseNotOwned"
	// RetriesExceededReason: the configured retries are used up; the release waits for a change.
	RetriesExceededReason = "RetriesExceeded"
	// ValuesSchemaRefusedReason (stalled): a values.schema.json of the chart refers outside
	// itself, is too large or invalid; Helm would read files or send requests for it.
	ValuesSchemaRefusedReason = "ValuesSchemaRefused"
	// CRDsRefusedReason (stalled): the chart's crds/ holds an object that is not a CRD, or
	// replacing a CRD would drop a version objects are stored at.
	CRDsRefusedReason = "CRDsRefused"
	// TooManyObjectsReason (stalled): the rendered manifest holds more objects than the
	// controller's --max-objects-per-unit allows; nothing was installed or upgraded.
	TooManyObjectsReason = "TooManyObjects"
)
