package predicates

import (
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"weir.dev/api/meta"
)

// GateRequested passes updates that set a new value of the approve annotation
// (reconcile.weir.dev/approve) or the window-override annotation
// (reconcile.weir.dev/overrideWindow), so an approval set with kubectl acts at once.
type GateRequested struct {
	predicate.Funcs
}

// Update passes the event when either annotation changed to a non-empty value.
func (GateRequested) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	for _, key := range []string{meta.ApproveAnnotation, meta.OverrideWindowAnnotation} {
		v := e.ObjectNew.GetAnnotations()[key]
		if v != "" && v != e.ObjectOld.GetAnnotations()[key] {
			return true
		}
	}
	return false
}

// WithGate is Default plus GateRequested: the filter of kinds with an approval gate.
func WithGate() predicate.Predicate {
	return predicate.Or(Default(), GateRequested{})
}
