package predicates

import (
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"weir.dev/api/meta"
)

// conditionsGetter is a kind with status conditions.
type conditionsGetter interface {
	GetConditions() []metav1.Condition
}

// ReadyChanged passes updates that change an object's Ready condition: it appears or goes, or
// its status, message or observed generation changes. A consumer uses it beside
// ArtifactChanged to report at once that its source failed, not only that it has a new
// artifact. Creations, deletions and generic events do not pass.
type ReadyChanged struct {
	predicate.Funcs
}

// Update passes a change of the Ready condition.
func (ReadyChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(conditionsGetter)
	n, ok2 := e.ObjectNew.(conditionsGetter)
	if !ok1 || !ok2 {
		return false
	}
	oldReady := apimeta.FindStatusCondition(o.GetConditions(), meta.ReadyCondition)
	newReady := apimeta.FindStatusCondition(n.GetConditions(), meta.ReadyCondition)
	if oldReady == nil || newReady == nil {
		return (oldReady == nil) != (newReady == nil)
	}
	return oldReady.Status != newReady.Status || oldReady.Message != newReady.Message ||
		oldReady.ObservedGeneration != newReady.ObservedGeneration
}

// Create passes nothing.
func (ReadyChanged) Create(event.CreateEvent) bool { return false }

// Delete passes nothing.
func (ReadyChanged) Delete(event.DeleteEvent) bool { return false }

// Generic passes nothing.
func (ReadyChanged) Generic(event.GenericEvent) bool { return false }
