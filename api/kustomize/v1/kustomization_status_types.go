package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// KustomizationStatus is the observed state of a Kustomization.
type KustomizationStatus struct {
	// ObservedGeneration is the last generation the controller observed.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: see condition_types.go for each type's polarity.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastAppliedRevision is the source revision last applied successfully.
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// LastAttemptedRevision is the source revision of the last reconciliation attempt.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// LastAppliedOriginRevision is the origin revision (the upstream commit an OCI artifact was
	// built from, from its metadata) of the last successful apply.
	// +optional
	LastAppliedOriginRevision string `json:"lastAppliedOriginRevision,omitempty"`

	// Inventory lists the objects applied by the last successful reconciliation; it is what
	// prune compares the new desired set with.
	// +optional
	Inventory *meta.ResourceInventory `json:"inventory,omitempty"`

	// History records the last few distinct desired states reconciled, newest first.
	// +optional
	History []ReconcileSnapshot `json:"history,omitempty"`

	// Applied identifies, as digests, what the last full successful apply left in the cluster,
	// so that a restarted controller can tell a run that would change nothing without a dry
	// run. Weir addition.
	// +optional
	Applied *AppliedDigests `json:"applied,omitempty"`

	// Drift lists applied objects whose fields were changed in the cluster by another field
	// manager since the last apply. Secret values are never recorded, only field paths.
	// Weir addition.
	// +optional
	Drift []DriftedObject `json:"drift,omitempty"`

	// Hooks are the hook objects of the last build (kustomize.weir.dev/hook) and how each
	// last ran, at most 32. Weir addition.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	Hooks []HookStatus `json:"hooks,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`

	// GateStatus: status.plan and the approvals and window overrides handled.
	meta.GateStatus `json:",inline"`
}

// AppliedDigests identify the objects a Kustomization applied and the state the apply left them
// in, without their content.
type AppliedDigests struct {
	// Set is the digest of the objects applied, with their ownership labels: status.history's
	// digest of that run.
	// +kubebuilder:validation:MaxLength=80
	Set string `json:"set"`

	// Objects digests status.inventory's IDs with the resourceVersion each object had after the
	// apply: any later write to one of them, or its deletion, changes it.
	// +kubebuilder:validation:MaxLength=80
	Objects string `json:"objects"`

	// Request is the reconcile request (reconcile.weir.dev/requestedAt) that run handled.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Request string `json:"request,omitempty"`
}

// ReconcileSnapshot summarises the reconciliations of one desired state (one applied set).
type ReconcileSnapshot struct {
	// Digest identifies the desired state: the digest of the built objects, `<algorithm>:<hex>`.
	// +required
	Digest string `json:"digest"`

	// FirstReconciled is when this desired state was first reconciled.
	// +required
	FirstReconciled metav1.Time `json:"firstReconciled"`

	// LastReconciled is when this desired state was last reconciled.
	// +required
	LastReconciled metav1.Time `json:"lastReconciled"`

	// LastReconciledDuration is how long the last reconciliation took.
	// +required
	LastReconciledDuration metav1.Duration `json:"lastReconciledDuration"`

	// LastReconciledStatus is the reason of the Ready condition after the last reconciliation.
	// +required
	LastReconciledStatus string `json:"lastReconciledStatus"`

	// TotalReconciliations counts the reconciliations of this desired state.
	// +required
	TotalReconciliations int64 `json:"totalReconciliations"`

	// Metadata holds details such as the source revision.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}

// DriftedObject reports fields of one applied object that another field manager changed.
// Only paths are recorded, never values, so Secret contents never reach the status.
type DriftedObject struct {
	// ID is the object's inventory ID, `<namespace>_<name>_<group>_<kind>`.
	// +required
	ID string `json:"id"`

	// Fields are the JSON paths of the changed fields, e.g. `.spec.replicas`.
	// +optional
	Fields []string `json:"fields,omitempty"`

	// Manager is the field manager that last wrote those fields.
	// +optional
	Manager string `json:"manager,omitempty"`

	// DetectedAt is when the drift was first detected.
	// +required
	DetectedAt metav1.Time `json:"detectedAt"`
}
