package controller

import (
	"fmt"
	"strings"

	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/steps"
)

// summarizeSet sets Ready, Reconciling and Stalled for the outcome of a run and records the
// revision every step reached. The frame then announces what changed (setChangeMessage): a
// warning event when the rollout stopped or failed, a normal one naming the inputs applied and
// the objects pruned.
func summarizeSet(sc *setScope, o steps.Outcome) {
	obj := sc.obj
	msg := ""
	if o.Kind == steps.Succeeded {
		obj.Status.LastAppliedRevision = sc.revision
		msg = fmt.Sprintf("%d inputs applied at revision %s", len(sc.inputs), sc.revision)
	}
	steps.Summary{Negative: setNegative, SuccessReason: setsv1.ReconciliationSucceededReason, SuccessMessage: msg}.Apply(obj, o)
}

// setMetadata is the event metadata: the revision the run reached, if any.
func setMetadata(sc *setScope) map[string]string {
	if sc.revision == "" {
		return nil
	}
	return map[string]string{meta.RevisionEventKey: sc.revision}
}

// setChangeMessage names the inputs a run applied and the objects it pruned, "" when none.
func setChangeMessage(sc *setScope) string {
	var parts []string
	if len(sc.changed) > 0 {
		parts = append(parts, fmt.Sprintf("applied %d inputs: %s", len(sc.changed), nameSome(sc.changed)))
	}
	if len(sc.pruned) > 0 {
		parts = append(parts, fmt.Sprintf("pruned %d objects: %s", len(sc.pruned), nameSome(sc.pruned)))
	}
	return strings.Join(parts, "; ")
}
