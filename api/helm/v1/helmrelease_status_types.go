package v1

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// ReleaseAction is a Helm action that creates a release revision.
// +kubebuilder:validation:Enum=install;upgrade
type ReleaseAction string

// Release actions.
const (
	// ReleaseActionInstall is a Helm install.
	ReleaseActionInstall ReleaseAction = "install"
	// ReleaseActionUpgrade is a Helm upgrade.
	ReleaseActionUpgrade ReleaseAction = "upgrade"
)

// HelmReleaseStatus is the observed state of a HelmRelease.
type HelmReleaseStatus struct {
	// ObservedGeneration is the last generation the controller observed.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ObservedPostRenderersDigest is the digest of spec.postRenderers as of the last successful
	// release.
	// +optional
	ObservedPostRenderersDigest string `json:"observedPostRenderersDigest,omitempty"`

	// LastAttemptedGeneration is the generation of the last reconciliation attempt.
	// +optional
	LastAttemptedGeneration int64 `json:"lastAttemptedGeneration,omitempty"`

	// Conditions: see condition_types.go for each type's polarity.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// HelmChart is `<namespace>/<name>` of the HelmChart created from spec.chart.
	// +optional
	HelmChart string `json:"helmChart,omitempty"`

	// StorageNamespace is the namespace of the Helm storage of the current release.
	// +optional
	StorageNamespace string `json:"storageNamespace,omitempty"`

	// History holds the release revisions up to the last successful one, newest first.
	// +optional
	History Snapshots `json:"history,omitempty"`

	// LastAttemptedReleaseAction is the last install or upgrade attempted; it selects the
	// remediation that applies.
	// +optional
	LastAttemptedReleaseAction ReleaseAction `json:"lastAttemptedReleaseAction,omitempty"`

	// Failures counts failed reconciliations of the current desired state.
	// +optional
	Failures int64 `json:"failures,omitempty"`

	// InstallFailures counts failed installs of the current desired state.
	// +optional
	InstallFailures int64 `json:"installFailures,omitempty"`

	// UpgradeFailures counts failed upgrades of the current desired state.
	// +optional
	UpgradeFailures int64 `json:"upgradeFailures,omitempty"`

	// LastAttemptedRevision is the chart version of the last attempt; for OCIRepository
	// sources, with the first 12 characters of the digest appended (`1.2.3+1234567890ab`).
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// LastAttemptedRevisionDigest is the artifact digest of the last attempt (OCIRepository
	// sources only).
	// +optional
	LastAttemptedRevisionDigest string `json:"lastAttemptedRevisionDigest,omitempty"`

	// LastAttemptedValuesChecksum is the SHA1 of the values of the last attempt.
	// Deprecated: use LastAttemptedConfigDigest.
	// +optional
	LastAttemptedValuesChecksum string `json:"lastAttemptedValuesChecksum,omitempty"`

	// LastAttemptedConfigDigest is the digest of the values of the last attempt.
	// +optional
	LastAttemptedConfigDigest string `json:"lastAttemptedConfigDigest,omitempty"`

	// LastHandledForceAt is the last value of the reconcile.weir.dev/forceAt annotation handled.
	// +optional
	LastHandledForceAt string `json:"lastHandledForceAt,omitempty"`

	// LastHandledResetAt is the last value of the reconcile.weir.dev/resetAt annotation handled.
	// +optional
	LastHandledResetAt string `json:"lastHandledResetAt,omitempty"`

	// Inventory lists the objects of the current release.
	// +optional
	Inventory *meta.ResourceInventory `json:"inventory,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`

	// GateStatus: status.plan and the approvals and window overrides handled.
	meta.GateStatus `json:",inline"`
}

// GetHelmChart returns the namespace and name of status.helmChart, or empty strings.
func (in *HelmReleaseStatus) GetHelmChart() (namespace, name string) {
	namespace, name, ok := strings.Cut(in.HelmChart, "/")
	if !ok {
		return "", ""
	}
	return namespace, name
}

// ClearFailures resets the failure counters.
func (in *HelmReleaseStatus) ClearFailures() {
	in.Failures, in.InstallFailures, in.UpgradeFailures = 0, 0, 0
}

// Snapshots is a release history, newest first.
type Snapshots []*Snapshot

// Latest returns the newest snapshot, or nil.
func (in Snapshots) Latest() *Snapshot {
	if len(in) == 0 {
		return nil
	}
	return in[0]
}

// Snapshot records one release revision as stored by Helm.
type Snapshot struct {
	// APIVersion versions the way Digest is computed.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Digest of the release object in storage, `<algorithm>:<hex>`.
	// +required
	Digest string `json:"digest"`

	// Name of the release.
	// +required
	Name string `json:"name"`

	// Namespace the release is installed into.
	// +required
	Namespace string `json:"namespace"`

	// Version is the release revision number.
	// +required
	Version int `json:"version"`

	// Status is Helm's status of the revision, e.g. `deployed`, `superseded`, `failed`.
	// +required
	Status string `json:"status"`

	// ChartName is the name of the chart released.
	// +required
	ChartName string `json:"chartName"`

	// ChartVersion is the version of the chart released.
	// +required
	ChartVersion string `json:"chartVersion"`

	// AppVersion is the chart's appVersion.
	// +optional
	AppVersion string `json:"appVersion,omitempty"`

	// ConfigDigest is the digest of the values released, `<algorithm>:<hex>`.
	// +required
	ConfigDigest string `json:"configDigest"`

	// FirstDeployed is when the release was first deployed.
	// +required
	FirstDeployed metav1.Time `json:"firstDeployed"`

	// LastDeployed is when this revision was deployed.
	// +required
	LastDeployed metav1.Time `json:"lastDeployed"`

	// Deleted is when the revision was uninstalled.
	// +optional
	Deleted metav1.Time `json:"deleted,omitempty"`

	// TestHooks are the test hooks run for this revision, by name. Unset means tests did not
	// run; empty means the chart has no tests.
	// +optional
	TestHooks *map[string]*TestHookStatus `json:"testHooks,omitempty"`

	// OCIDigest is the digest of the OCI artifact the chart came from.
	// +optional
	OCIDigest string `json:"ociDigest,omitempty"`
}

// TestHookStatus is the observed state of one test hook.
type TestHookStatus struct {
	// LastStarted is when the test last started.
	// +optional
	LastStarted metav1.Time `json:"lastStarted,omitempty"`

	// LastCompleted is when the test last completed.
	// +optional
	LastCompleted metav1.Time `json:"lastCompleted,omitempty"`

	// Phase is the test's phase, e.g. `Succeeded` or `Failed`.
	// +optional
	Phase string `json:"phase,omitempty"`
}
