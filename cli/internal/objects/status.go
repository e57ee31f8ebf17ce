package objects

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"weir.dev/api/meta"
)

// Conditions returns the object's status.conditions.
func Conditions(u *unstructured.Unstructured) []metav1.Condition {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var out []metav1.Condition
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		var c metav1.Condition
		if runtime.DefaultUnstructuredConverter.FromUnstructured(m, &c) == nil {
			out = append(out, c)
		}
	}
	return out
}

// ReadyCondition returns the object's Ready condition, or nil.
func ReadyCondition(u *unstructured.Unstructured) *metav1.Condition {
	return apimeta.FindStatusCondition(Conditions(u), meta.ReadyCondition)
}

// IsSuspended reports spec.suspend.
func IsSuspended(u *unstructured.Unstructured) bool {
	s, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend")
	return s
}

// LastHandledReconcileAt returns status.lastHandledReconcileAt.
func LastHandledReconcileAt(u *unstructured.Unstructured) string {
	s, _, _ := unstructured.NestedString(u.Object, "status", "lastHandledReconcileAt")
	return s
}

// ObservedGeneration returns status.observedGeneration.
func ObservedGeneration(u *unstructured.Unstructured) int64 {
	g, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	return g
}

// Decided reports whether u's Ready condition is final for its generation, and whether it
// is True. Ready=False is final when Stalled, or once the controller is no longer Reconciling.
func Decided(u *unstructured.Unstructured) (done, ready bool) {
	cs := Conditions(u)
	c := apimeta.FindStatusCondition(cs, meta.ReadyCondition)
	if c == nil || ObservedGeneration(u) < u.GetGeneration() {
		return false, false
	}
	if c.ObservedGeneration != 0 && c.ObservedGeneration < u.GetGeneration() {
		return false, false
	}
	switch c.Status {
	case metav1.ConditionTrue:
		return true, true
	case metav1.ConditionFalse:
		stalled := apimeta.IsStatusConditionTrue(cs, meta.StalledCondition)
		reconciling := apimeta.IsStatusConditionTrue(cs, meta.ReconcilingCondition)
		return stalled || !reconciling, false
	}
	return false, false
}

// Shorten puts s on one line and cuts it to n runes, ending with "…" when cut: for messages in
// tables.
func Shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// EventTime is when an event last happened.
func EventTime(ev corev1.Event) time.Time {
	switch {
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	case !ev.FirstTimestamp.IsZero():
		return ev.FirstTimestamp.Time
	}
	return ev.CreationTimestamp.Time
}
