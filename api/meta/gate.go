package meta

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Annotations of the approval gate and sync windows (Kustomization, HelmRelease).
const (
	// ApproveAnnotation approves the plan of a revision: its value is the revision of the plan
	// (status.plan.revision), optionally followed by `#<anything>` to approve the same revision
	// again (a changed spec, or drift under spec.driftApproval: Manual). Each value approves one
	// plan; a value naming another revision than the plan's is refused as stale.
	ApproveAnnotation = "reconcile.weir.dev/approve"

	// OverrideWindowAnnotation, set to any new value, lets the next reconcile apply outside the
	// sync windows, once; the value handled is echoed in status.lastHandledWindowOverride.
	OverrideWindowAnnotation = "reconcile.weir.dev/overrideWindow"
)

// Values of spec.approval, spec.driftApproval, spec.selfHeal and a sync window's kind.
const (
	// ApprovalAuto applies every new desired state at once (the default).
	ApprovalAuto = "Auto"
	// ApprovalManual applies a new desired state only once its plan is approved.
	ApprovalManual = "Manual"

	// SelfHealAlways corrects drift of the applied state at any time (the default).
	SelfHealAlways = "Always"
	// SelfHealInWindow corrects drift only when the sync windows allow applying.
	SelfHealInWindow = "InWindow"

	// SyncWindowAllow windows are the only times new desired states are applied.
	SyncWindowAllow = "allow"
	// SyncWindowDeny windows are times new desired states are never applied.
	SyncWindowDeny = "deny"
)

// Gate holds back new desired states of a Kustomization or HelmRelease: until a person approves
// their plan, and to the times the sync windows allow.
type Gate struct {
	// Approval says whether a new desired state (a new revision, or a spec change that changes
	// what is applied) is applied at once (`Auto`) or computed as a plan, recorded in
	// status.plan and applied only once approved (`Manual`) with the annotation
	// reconcile.weir.dev/approve: <revision>, which `weir approve` sets. Weir addition.
	// +optional
	// +kubebuilder:validation:Enum=Auto;Manual
	Approval string `json:"approval,omitempty"`

	// DriftApproval says whether, with Approval `Manual`, drift of the approved state is
	// corrected without a new approval (`Auto`, the default) or needs one too (`Manual`).
	// Weir addition.
	// +optional
	// +kubebuilder:validation:Enum=Auto;Manual
	DriftApproval string `json:"driftApproval,omitempty"`

	// SyncWindows restrict when new desired states are applied: outside every allow window
	// (when there are any) or inside any deny window they wait, and the status says until when.
	// Weir addition.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	SyncWindows []SyncWindow `json:"syncWindows,omitempty"`

	// SelfHeal says when drift of the applied state is corrected: `Always` (the default), or
	// only when the sync windows allow applying (`InWindow`). Weir addition.
	// +optional
	// +kubebuilder:validation:Enum=Always;InWindow
	SelfHeal string `json:"selfHeal,omitempty"`
}

// ManualApproval reports whether new desired states wait for an approval.
func (g Gate) ManualApproval() bool { return g.Approval == ApprovalManual }

// DriftNeedsApproval reports whether correcting drift of the approved state needs an approval.
func (g Gate) DriftNeedsApproval() bool {
	return g.ManualApproval() && g.DriftApproval == ApprovalManual
}

// HealsOnlyInWindow reports whether drift is corrected only when the sync windows allow it.
func (g Gate) HealsOnlyInWindow() bool { return g.SelfHeal == SelfHealInWindow }

// SyncWindow is a recurring period: it opens at each time of Schedule and stays open for
// Duration.
type SyncWindow struct {
	// Kind is `allow` or `deny`.
	// +required
	// +kubebuilder:validation:Enum=allow;deny
	Kind string `json:"kind"`

	// Schedule is a standard five-field cron expression (minute hour day-of-month month
	// day-of-week), e.g. `0 2 * * 1-5`, or a descriptor such as `@daily`.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Schedule string `json:"schedule"`

	// Duration is how long the window stays open after each opening, e.g. `2h`.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Duration metav1.Duration `json:"duration"`

	// TimeZone is the IANA time zone of Schedule, e.g. `Europe/Berlin`; UTC when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	TimeZone string `json:"timeZone,omitempty"`
}

// GateStatus is what the approval gate and sync windows record in status.
type GateStatus struct {
	// Plan is the last plan computed under spec.approval: Manual: what applying the desired
	// state would change. Approval is empty while it waits to be approved.
	// +optional
	Plan *Plan `json:"plan,omitempty"`

	// LastHandledApproval is the last value of the reconcile.weir.dev/approve annotation
	// that approved a plan.
	// +optional
	LastHandledApproval string `json:"lastHandledApproval,omitempty"`

	// LastHandledWindowOverride is the last value of the reconcile.weir.dev/overrideWindow
	// annotation that was honoured.
	// +optional
	LastHandledWindowOverride string `json:"lastHandledWindowOverride,omitempty"`
}

// MaxPlanObjects bounds the objects a plan lists in status; the counts cover them all.
const MaxPlanObjects = 100

// Plan says what applying a desired state would change.
type Plan struct {
	// Revision is the source revision (Kustomization) or the chart version and values digest
	// (HelmRelease) the plan applies; approvals name it.
	// +required
	Revision string `json:"revision"`

	// Digest identifies the desired state the plan applies, `<algorithm>:<hex>`.
	// +required
	Digest string `json:"digest"`

	// Create, Change and Delete count the objects the plan creates, changes and deletes.
	// +required
	Create int32 `json:"create"`
	// +required
	Change int32 `json:"change"`
	// +required
	Delete int32 `json:"delete"`

	// Drift says the plan only corrects drift of the approved state.
	// +optional
	Drift bool `json:"drift,omitempty"`

	// Objects lists the objects the plan changes, at most MaxPlanObjects of them.
	// +optional
	// +kubebuilder:validation:MaxItems=100
	Objects []PlanObject `json:"objects,omitempty"`

	// ComputedAt is when the plan was first computed.
	// +required
	ComputedAt metav1.Time `json:"computedAt"`

	// Approval is the value of the reconcile.weir.dev/approve annotation that approved the
	// plan; empty while it waits.
	// +optional
	Approval string `json:"approval,omitempty"`
}

// Plan object actions.
const (
	PlanCreate = "create"
	PlanChange = "change"
	PlanDelete = "delete"
)

// PlanObject is one object a plan changes.
type PlanObject struct {
	// ID is the object's inventory ID, `<namespace>_<name>_<group>_<kind>`.
	// +required
	ID string `json:"id"`

	// Action is `create`, `change` or `delete`.
	// +required
	Action string `json:"action"`
}

// Gate condition types and reasons (Kustomization, HelmRelease).
const (
	// ApprovalRequiredCondition (negative, present only while true): a new desired state waits
	// for its plan to be approved; the message summarises the plan. Ready is False with the
	// same reason and message meanwhile.
	ApprovalRequiredCondition = "ApprovalRequired"
	// ApprovalRequiredReason: a plan waits for approval.
	ApprovalRequiredReason = "ApprovalRequired"
	// PlanComputedReason (event): a new plan was computed and waits for approval.
	PlanComputedReason = "PlanComputed"
	// ApprovalRefusedReason (event): an approval named another revision than the plan's.
	ApprovalRefusedReason = "ApprovalRefused"
	// ApprovedReason (event): a plan was approved and is being applied.
	ApprovedReason = "Approved"

	// SyncWindowClosedCondition (negative, present only while true): a new desired state (or,
	// with selfHeal: InWindow, a drift correction) waits for the sync windows to allow it; the
	// message says until when. Ready keeps describing the state applied.
	SyncWindowClosedCondition = "SyncWindowClosed"
	// OutsideSyncWindowReason: applying waits for a sync window.
	OutsideSyncWindowReason = "OutsideSyncWindow"
	// SyncWindowOverriddenReason (event): a reconcile applied outside the sync windows at the
	// user's request.
	SyncWindowOverriddenReason = "SyncWindowOverridden"
)
