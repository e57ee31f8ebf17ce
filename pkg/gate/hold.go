package gate

import (
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	ctrl "sigs.k8s.io/controller-runtime"

	"weir.dev/api/meta"
)

// Hold is why a run applied nothing: a plan waits for approval, or the sync windows do not
// allow applying. The run is otherwise a full observation of the object.
type Hold struct {
	// Reason is meta.ApprovalRequiredReason or meta.OutsideSyncWindowReason.
	Reason  string
	Message string
	// Until is when the windows next allow applying (zero for an approval, or when none opens).
	Until time.Time
	// Now is the time the hold was decided, on the reconciler's clock.
	Now time.Time
}

// ForApproval holds a plan until it is approved (see ApprovalMessage).
func ForApproval(p *meta.Plan, stale, lastHandled string, now time.Time) *Hold {
	return &Hold{Reason: meta.ApprovalRequiredReason, Message: ApprovalMessage(p, stale, lastHandled), Now: now}
}

// ForWindow holds revision until the windows allow applying.
func ForWindow(revision string, d Decision, now time.Time) *Hold {
	return &Hold{Reason: meta.OutsideSyncWindowReason, Message: WaitMessage(revision, d), Until: d.Until, Now: now}
}

// Apply sets obj's conditions for the hold, following kstatus: nothing is in progress, the
// object waits for a person or a time. An approval makes Ready False with the plan's summary;
// a window leaves Ready describing the state applied (False only when it was not Ready).
func (h *Hold) Apply(obj conditions.Setter) {
	conditions.Delete(obj, meta.ReconcilingCondition)
	conditions.Delete(obj, meta.StalledCondition)
	switch h.Reason {
	case meta.ApprovalRequiredReason:
		conditions.Delete(obj, meta.SyncWindowClosedCondition)
		conditions.MarkTrue(obj, meta.ApprovalRequiredCondition, h.Reason, "%s", h.Message)
		conditions.MarkFalse(obj, meta.ReadyCondition, h.Reason, "%s", h.Message)
	default:
		conditions.Delete(obj, meta.ApprovalRequiredCondition)
		conditions.MarkTrue(obj, meta.SyncWindowClosedCondition, h.Reason, "%s", h.Message)
		if !conditions.IsReady(obj) {
			conditions.MarkFalse(obj, meta.ReadyCondition, h.Reason, "%s", h.Message)
		}
	}
}

// minWindowRequeue keeps a requeue at a window's opening from being a hot loop when the clock
// is a little behind.
const minWindowRequeue = time.Second

// Requeue shortens res to come back when the window opens, if that is sooner.
func (h *Hold) Requeue(res ctrl.Result) ctrl.Result {
	if h == nil || h.Until.IsZero() {
		return res
	}
	wait := max(h.Until.Sub(h.Now), minWindowRequeue)
	if res.RequeueAfter == 0 || wait < res.RequeueAfter {
		res.RequeueAfter = wait
	}
	return res
}
