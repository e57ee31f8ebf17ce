package predicates

import (
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"weir.dev/api/meta"
)

// ReconcileRequested passes updates that set a new value of the reconcile-request annotation
// (reconcile.weir.dev/requestedAt), so `weir reconcile` and Receivers trigger at once.
type ReconcileRequested struct {
	predicate.Funcs
}

// Update passes the event when the annotation's value changed to a non-empty one.
func (ReconcileRequested) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	newValue, ok := meta.ReconcileAnnotationValue(e.ObjectNew.GetAnnotations())
	if !ok || newValue == "" {
		return false
	}
	oldValue, _ := meta.ReconcileAnnotationValue(e.ObjectOld.GetAnnotations())
	return newValue != oldValue
}

// Default is the filter for a kind's own objects: creation, deletion, a new generation (spec
// change, or deletion timestamp set) or a reconcile request. Status-only updates do not pass.
func Default() predicate.Predicate {
	return predicate.Or(predicate.GenerationChangedPredicate{}, ReconcileRequested{})
}
