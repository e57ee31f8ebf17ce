package controller

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/steps"
)

// summarizeSet sets Ready, Reconciling and Stalled for the outcome of a run, records the
// revision every step reached, and announces what changed: a warning event when the rollout
// stopped or failed, a normal one naming the inputs applied and the objects pruned.
func (r *ResourceSetReconciler) summarizeSet(sc *setScope, o steps.Outcome) {
	obj := sc.obj
	msg := ""
	if o.Kind == steps.Succeeded {
		obj.Status.LastAppliedRevision = sc.revision
		msg = fmt.Sprintf("%d inputs applied at revision %s", len(sc.inputs), sc.revision)
	}
	steps.Summary{Negative: setNegative, SuccessReason: setsv1.ReconciliationSucceededReason, SuccessMessage: msg}.Apply(obj, o)
	metadata := map[string]string{}
	if sc.revision != "" {
		metadata[meta.RevisionEventKey] = sc.revision
	}
	steps.Event(r.EventRecorder, obj, o, metadata)
	if change := setChangeMessage(sc); change != "" {
		r.EventRecorder.AnnotatedEventf(obj, nil, metadata, corev1.EventTypeNormal, setsv1.ProgressingReason, steps.ActionReconcile, "%s", change)
	}
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
