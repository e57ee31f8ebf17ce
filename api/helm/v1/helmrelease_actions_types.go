package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CRDsPolicy says what an install or upgrade does with the chart's crds/ directory.
// +kubebuilder:validation:Enum=Skip;Create;CreateReplace
type CRDsPolicy string

// CRD policies.
const (
	// CRDsSkip neither creates nor updates CRDs.
	CRDsSkip CRDsPolicy = "Skip"
	// CRDsCreate creates missing CRDs and leaves existing ones alone.
	CRDsCreate CRDsPolicy = "Create"
	// CRDsCreateReplace creates missing CRDs and replaces existing ones. CRDs are never deleted.
	CRDsCreateReplace CRDsPolicy = "CreateReplace"
)

// RemediationStrategy is what undoes a failed upgrade.
// +kubebuilder:validation:Enum=rollback;uninstall
type RemediationStrategy string

// Remediation strategies.
const (
	// RollbackRemediationStrategy rolls back to the previous successful release.
	RollbackRemediationStrategy RemediationStrategy = "rollback"
	// UninstallRemediationStrategy uninstalls the release.
	UninstallRemediationStrategy RemediationStrategy = "uninstall"
)

// ActionStrategyName says how a failed install or upgrade is followed up.
// +kubebuilder:validation:Enum=RemediateOnFailure;RetryOnFailure
type ActionStrategyName string

// Action strategies.
const (
	// ActionStrategyRemediateOnFailure remediates (see remediation) and retries up to the
	// configured number of times.
	ActionStrategyRemediateOnFailure ActionStrategyName = "RemediateOnFailure"
	// ActionStrategyRetryOnFailure leaves the failed release in place and retries the action
	// every retryInterval, without remediation.
	ActionStrategyRetryOnFailure ActionStrategyName = "RetryOnFailure"
)

// ActionStrategy says how a failed install or upgrade is followed up.
// +kubebuilder:validation:XValidation:rule="!has(self.retryInterval) || self.name == 'RetryOnFailure'",message="strategy.retryInterval can only be set when strategy.name is RetryOnFailure"
type ActionStrategy struct {
	// Name of the strategy.
	// +required
	Name ActionStrategyName `json:"name"`

	// RetryInterval is the time between retries with RetryOnFailure; spec.interval when empty.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`
}

// Install configures Helm install actions.
// +kubebuilder:validation:XValidation:rule="!has(self.skipCRDs) || !self.skipCRDs || !has(self.crds) || self.crds == 'Skip'",message="spec.install.skipCRDs conflicts with spec.install.crds; use crds: Skip"
type Install struct {
	// Timeout for each Kubernetes operation of the install; spec.timeout when empty.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Strategy says how a failed install is followed up; RemediateOnFailure when empty.
	// +optional
	Strategy *ActionStrategy `json:"strategy,omitempty"`

	// Remediation configures retries and the uninstall that undoes a failed install.
	// +optional
	Remediation *InstallRemediation `json:"remediation,omitempty"`

	// DisableWait does not wait for the release's objects to be ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs does not wait for the release's Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks does not run the chart's hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DisableOpenAPIValidation does not validate the rendered manifests against the cluster's
	// OpenAPI schema.
	// +optional
	DisableOpenAPIValidation bool `json:"disableOpenAPIValidation,omitempty"`

	// DisableSchemaValidation does not validate the values against the chart's JSON schema.
	// +optional
	DisableSchemaValidation bool `json:"disableSchemaValidation,omitempty"`

	// DisableTakeOwnership refuses to adopt existing objects not owned by the release.
	// +optional
	DisableTakeOwnership bool `json:"disableTakeOwnership,omitempty"`

	// Replace reuses the release name if a deleted release of that name is still in history.
	// +optional
	Replace bool `json:"replace,omitempty"`

	// SkipCRDs does not install CRDs.
	// Deprecated: use crds: Skip.
	// +optional
	SkipCRDs bool `json:"skipCRDs,omitempty"`

	// CRDs is the CRD policy on install; `Create` when empty.
	// +optional
	CRDs CRDsPolicy `json:"crds,omitempty"`

	// CreateNamespace creates spec.targetNamespace if missing. It is not deleted on uninstall.
	// +optional
	CreateNamespace bool `json:"createNamespace,omitempty"`
}

// InstallRemediation configures what follows a failed install.
type InstallRemediation struct {
	// Retries is how many times a failed install is retried, each after an uninstall;
	// a negative number retries forever. 0 when empty.
	// +optional
	Retries int `json:"retries,omitempty"`

	// IgnoreTestFailures does not treat failed tests after an install as a failure;
	// spec.test.ignoreFailures when empty.
	// +optional
	IgnoreTestFailures *bool `json:"ignoreTestFailures,omitempty"`

	// RemediateLastFailure uninstalls after the last failed retry too; false when empty.
	// +optional
	RemediateLastFailure *bool `json:"remediateLastFailure,omitempty"`
}

// Upgrade configures Helm upgrade actions.
type Upgrade struct {
	// Timeout for each Kubernetes operation of the upgrade; spec.timeout when empty.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Strategy says how a failed upgrade is followed up; RemediateOnFailure when empty.
	// +optional
	Strategy *ActionStrategy `json:"strategy,omitempty"`

	// Remediation configures retries and the rollback or uninstall that undoes a failed upgrade.
	// +optional
	Remediation *UpgradeRemediation `json:"remediation,omitempty"`

	// DisableWait does not wait for the release's objects to be ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs does not wait for the release's Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks does not run the chart's hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DisableOpenAPIValidation does not validate the rendered manifests against the cluster's
	// OpenAPI schema.
	// +optional
	DisableOpenAPIValidation bool `json:"disableOpenAPIValidation,omitempty"`

	// DisableSchemaValidation does not validate the values against the chart's JSON schema.
	// +optional
	DisableSchemaValidation bool `json:"disableSchemaValidation,omitempty"`

	// DisableTakeOwnership refuses to adopt existing objects not owned by the release.
	// +optional
	DisableTakeOwnership bool `json:"disableTakeOwnership,omitempty"`

	// Force replaces objects whose update fails instead of patching them.
	// +optional
	Force bool `json:"force,omitempty"`

	// PreserveValues reuses the previous release's values and merges Values over them, which
	// makes the release depend on its history.
	// +optional
	PreserveValues bool `json:"preserveValues,omitempty"`

	// CleanupOnFail deletes objects the failed upgrade created.
	// +optional
	CleanupOnFail bool `json:"cleanupOnFail,omitempty"`

	// CRDs is the CRD policy on upgrade; `Skip` when empty.
	// +optional
	CRDs CRDsPolicy `json:"crds,omitempty"`
}

// UpgradeRemediation configures what follows a failed upgrade.
type UpgradeRemediation struct {
	// Retries is how many times a failed upgrade is retried, each after remediation;
	// a negative number retries forever. 0 when empty.
	// +optional
	Retries int `json:"retries,omitempty"`

	// IgnoreTestFailures does not treat failed tests after an upgrade as a failure;
	// spec.test.ignoreFailures when empty.
	// +optional
	IgnoreTestFailures *bool `json:"ignoreTestFailures,omitempty"`

	// RemediateLastFailure remediates after the last failed retry too; true when Retries > 0,
	// false otherwise, when empty.
	// +optional
	RemediateLastFailure *bool `json:"remediateLastFailure,omitempty"`

	// Strategy is how a failed upgrade is undone; `rollback` when empty.
	// +optional
	Strategy *RemediationStrategy `json:"strategy,omitempty"`
}

// Test configures Helm test actions.
type Test struct {
	// Enable runs the chart's tests after every install and upgrade.
	// +optional
	Enable bool `json:"enable,omitempty"`

	// Timeout for each Kubernetes operation of the tests; spec.timeout when empty.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// IgnoreFailures reports failed tests without remediating; install and upgrade remediation
	// may override it.
	// +optional
	IgnoreFailures bool `json:"ignoreFailures,omitempty"`

	// Filters select tests to run or exclude by name.
	// +optional
	// +kubebuilder:validation:MaxItems=128
	Filters *[]TestFilter `json:"filters,omitempty"`
}

// TestFilter runs or excludes one test by name.
type TestFilter struct {
	// Name of the test.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Exclude skips the test instead of selecting it.
	// +optional
	Exclude bool `json:"exclude,omitempty"`
}

// Rollback configures Helm rollback actions.
type Rollback struct {
	// Timeout for each Kubernetes operation of the rollback; spec.timeout when empty.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// DisableWait does not wait for the release's objects to be ready.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DisableWaitForJobs does not wait for the release's Jobs to complete.
	// +optional
	DisableWaitForJobs bool `json:"disableWaitForJobs,omitempty"`

	// DisableHooks does not run the chart's hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// Recreate restarts the release's pods.
	// +optional
	Recreate bool `json:"recreate,omitempty"`

	// Force replaces objects whose update fails instead of patching them.
	// +optional
	Force bool `json:"force,omitempty"`

	// CleanupOnFail deletes objects the failed rollback created.
	// +optional
	CleanupOnFail bool `json:"cleanupOnFail,omitempty"`
}

// Uninstall configures Helm uninstall actions.
type Uninstall struct {
	// Timeout for each Kubernetes operation of the uninstall; spec.timeout when empty.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// DisableHooks does not run the chart's hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// KeepHistory keeps the release's history, marked as uninstalled.
	// +optional
	KeepHistory bool `json:"keepHistory,omitempty"`

	// DisableWait does not wait for the release's objects to be deleted.
	// +optional
	DisableWait bool `json:"disableWait,omitempty"`

	// DeletionPropagation is the deletion propagation policy for the release's objects.
	// +optional
	// +kubebuilder:default=background
	// +kubebuilder:validation:Enum=background;foreground;orphan
	DeletionPropagation *string `json:"deletionPropagation,omitempty"`
}
