package objects

import (
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/api/meta"
)

// State is what Weir's tools say of an object at a glance.
type State string

const (
	// StateFailing is Ready=False with the controller no longer trying for now.
	StateFailing State = "failing"
	// StateProgressing is not decided yet for the object's generation: no Ready condition, an
	// unobserved generation, or Ready=False while Reconciling=True (`weir stats` calls it
	// Reconciling).
	StateProgressing State = "progressing"
	// StateSuspended is spec.suspend set: the controller leaves the object alone.
	StateSuspended State = "suspended"
	// StateReady is Ready=True.
	StateReady State = "ready"
)

// StateOf decides u's state from its suspension, conditions and generation.
func StateOf(u *unstructured.Unstructured) State {
	if IsSuspended(u) {
		return StateSuspended
	}
	cs := Conditions(u)
	ready := apimeta.FindStatusCondition(cs, meta.ReadyCondition)
	switch {
	case ready == nil, ObservedGeneration(u) < u.GetGeneration():
		return StateProgressing
	case ready.Status == metav1.ConditionTrue:
		return StateReady
	case ready.Status == metav1.ConditionFalse:
		if apimeta.IsStatusConditionTrue(cs, meta.ReconcilingCondition) && !apimeta.IsStatusConditionTrue(cs, meta.StalledCondition) {
			return StateProgressing
		}
		return StateFailing
	}
	return StateProgressing
}
