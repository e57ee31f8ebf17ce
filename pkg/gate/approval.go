package gate

import (
	"fmt"
	"strings"

	"weir.dev/api/meta"
)

// ApprovalRevision returns the revision an approve annotation value names: the value up to
// an optional `#<anything>`, which lets the same revision be approved again.
func ApprovalRevision(value string) string {
	rev, _, _ := strings.Cut(value, "#")
	return rev
}

// Approval is what the approve annotation says of a plan.
type Approval int

const (
	// NotApproved: no approval that has not been used already.
	NotApproved Approval = iota
	// Approved: a new approval names the plan's revision.
	Approved
	// Stale: a new approval names another revision.
	Stale
)

// Judge says what value (the approve annotation) means for a plan of revision, given the
// last approval handled: each value approves one plan.
func Judge(value, lastHandled, revision string) Approval {
	switch {
	case value == "" || value == lastHandled:
		return NotApproved
	case ApprovalRevision(value) == revision:
		return Approved
	default:
		return Stale
	}
}

// Summary is the plan as the status and events say it: "revision R: 3 to create, 2 to
// change, 1 to delete".
func Summary(p *meta.Plan) string {
	what := "revision " + p.Revision
	if p.Drift {
		what += " (drift correction)"
	}
	return fmt.Sprintf("%s: %d to create, %d to change, %d to delete", what, p.Create, p.Change, p.Delete)
}

// Empty reports whether the plan changes nothing.
func Empty(p *meta.Plan) bool { return p.Create+p.Change+p.Delete == 0 }

// Add counts one object the plan changes, listing it while the list has room.
func Add(p *meta.Plan, id, action string) {
	switch action {
	case meta.PlanCreate:
		p.Create++
	case meta.PlanChange:
		p.Change++
	case meta.PlanDelete:
		p.Delete++
	default:
		return
	}
	if len(p.Objects) < meta.MaxPlanObjects {
		p.Objects = append(p.Objects, meta.PlanObject{ID: id, Action: action})
	}
}

// Same reports whether a and b plan the same change of the same desired state.
func Same(a, b *meta.Plan) bool {
	return a != nil && b != nil && a.Revision == b.Revision && a.Digest == b.Digest &&
		a.Create == b.Create && a.Change == b.Change && a.Delete == b.Delete && a.Drift == b.Drift
}

// ApprovalMessage is the status message of a plan waiting for approval; stale names an
// approval refused because it named another revision. When lastHandled already approved the
// plan's revision (a changed spec, or drift), it says how to approve it again.
func ApprovalMessage(p *meta.Plan, stale, lastHandled string) string {
	msg := Summary(p)
	switch {
	case stale != "":
		msg += fmt.Sprintf("; the approval of revision %s is stale: approve %s", ApprovalRevision(stale), p.Revision)
	case lastHandled != "" && ApprovalRevision(lastHandled) == p.Revision:
		msg += fmt.Sprintf("; %s was approved before: approve again with %s=%s#<anything new>", p.Revision, meta.ApproveAnnotation, p.Revision)
	}
	return msg
}
