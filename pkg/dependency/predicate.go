package dependency

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// BecameReady passes an update that makes an object ready at its latest generation (see
// NotReady), or that records a new applied revision of an object that stays ready, so that
// objects depending on it are reconciled at once instead of at their next requeue. Creations,
// deletions and generic events do not pass.
type BecameReady struct{ predicate.Funcs }

// Update passes when the new object is ready and the old one was not, or applied another
// revision.
func (BecameReady) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	n, err := toUnstructured(e.ObjectNew)
	if err != nil || NotReady(n) != "" {
		return false
	}
	o, err := toUnstructured(e.ObjectOld)
	if err != nil {
		return false
	}
	oldRev, _, _ := unstructured.NestedString(o.Object, "status", "lastAppliedRevision")
	newRev, _, _ := unstructured.NestedString(n.Object, "status", "lastAppliedRevision")
	return NotReady(o) != "" || oldRev != newRev
}

// Create passes nothing.
func (BecameReady) Create(event.CreateEvent) bool { return false }

// Delete passes nothing.
func (BecameReady) Delete(event.DeleteEvent) bool { return false }

// Generic passes nothing.
func (BecameReady) Generic(event.GenericEvent) bool { return false }

func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}
