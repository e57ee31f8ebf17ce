package v1

// Hook points: the annotation kustomize.weir.dev/hook names one of them on an object of the
// build, which then runs at that point of the reconcile instead of being applied with the rest.
const (
	// HookPreApply runs after the whole-set dry run and before the first wave is applied.
	HookPreApply = "pre-apply"
	// HookPostApply runs once the last wave is applied and healthy.
	HookPostApply = "post-apply"
	// HookOnFailure runs when the apply or a health check failed.
	HookOnFailure = "on-failure"
	// HookPreDelete runs before a Kustomization that is being deleted deletes its objects.
	HookPreDelete = "pre-delete"
)

// Hook delete policies: the annotation kustomize.weir.dev/hook-delete-policy says when the
// controller deletes a hook object it ran.
const (
	// HookDeleteBeforeNextRun (the default) keeps the hook object until the hook runs again
	// (a new revision, or a changed hook), when it is deleted and created anew.
	HookDeleteBeforeNextRun = "before-next-run"
	// HookDeleteOnSuccess deletes the hook object as soon as it succeeded; a failed one stays
	// for inspection until the next run.
	HookDeleteOnSuccess = "on-success"
)

// Hook phases, in status.hooks.
const (
	// HookPending: a pre-delete hook created suspended, to run when the Kustomization is deleted.
	HookPending = "Pending"
	// HookRunning: created and not finished yet.
	HookRunning = "Running"
	// HookSucceeded: completed (a Job's Complete condition; kstatus Current for other kinds).
	HookSucceeded = "Succeeded"
	// HookFailed: failed (a Job's Failed condition) or did not finish within spec.timeout.
	HookFailed = "Failed"
)

// HookStatus is the last run of one hook object. Weir addition.
type HookStatus struct {
	// ID is the hook object's inventory ID, `<namespace>_<name>_<group>_<kind>`.
	// +required
	ID string `json:"id"`

	// Version is the hook object's API version.
	// +required
	Version string `json:"v"`

	// Point is when the hook runs: pre-apply, post-apply, on-failure or pre-delete.
	// +required
	Point string `json:"point"`

	// Revision is the source revision the hook last ran for.
	// +optional
	Revision string `json:"revision,omitempty"`

	// Digest identifies the manifest the hook last ran with, `sha256:<hex>`; a hook runs again
	// only when the revision or its manifest changes.
	// +optional
	Digest string `json:"digest,omitempty"`

	// Phase is Pending, Running, Succeeded or Failed.
	// +required
	Phase string `json:"phase"`

	// Message says why a hook failed (the Job's failure reason and message), bounded.
	// +optional
	Message string `json:"message,omitempty"`
}
