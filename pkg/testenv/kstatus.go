package testenv

import (
	"errors"
	"fmt"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// Observed is an object with status.observedGeneration: every Weir kind with a reconciler.
type Observed interface {
	Conditioned
	GetObservedGeneration() int64
}

// CheckKstatus returns nil when obj's status, as one reader sees it at one moment, keeps the
// kstatus contract Weir's controllers promise (the rules of Flux's conditions check), and an
// error naming every rule it breaks:
//   - Ready is present once the object has any condition or an observedGeneration;
//   - Reconciling and Stalled are abnormal-true: present only while True, never both True;
//   - Ready=True of the current generation goes with neither Reconciling nor Stalled (one of
//     an earlier generation may stand beside Reconciling while the new one is in progress);
//     Stalled=True goes with Ready=False;
//   - the negative (abnormal-true) condition types given are present only while True;
//   - no condition claims a generation the object does not have yet;
//   - a settled outcome of the current generation (Ready=True or Stalled=True observed at it)
//     comes with status.observedGeneration at it, in the same write: a half-written status
//     (conditions of one reconcile beside observedGeneration of another) fails here.
//
// Suspended objects keep their last conditions (none, if suspended from the start) while
// observedGeneration moves on, so the first and last rules are left out for them.
func CheckKstatus(obj Observed, negative ...string) error {
	conds := obj.GetConditions()
	gen := obj.GetGeneration()
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	suspended := false
	if s, ok := obj.(interface{ IsSuspended() bool }); ok {
		suspended = s.IsSuspended()
	}
	ready := apimeta.FindStatusCondition(conds, meta.ReadyCondition)
	if ready == nil && !suspended && (len(conds) > 0 || obj.GetObservedGeneration() > 0) {
		fail("no Ready condition")
	}
	for _, typ := range append([]string{meta.ReconcilingCondition, meta.StalledCondition}, negative...) {
		if c := apimeta.FindStatusCondition(conds, typ); c != nil && c.Status != metav1.ConditionTrue {
			fail("abnormal-true condition %s is present with status %s", typ, c.Status)
		}
	}
	reconciling := apimeta.IsStatusConditionTrue(conds, meta.ReconcilingCondition)
	stalled := apimeta.IsStatusConditionTrue(conds, meta.StalledCondition)
	if reconciling && stalled {
		fail("Reconciling and Stalled are both True")
	}
	// A Ready=True of an earlier generation may stand beside Reconciling while the new one is
	// in progress (kstatus reads Reconciling first).
	freshReady := ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == gen
	if freshReady && reconciling || ready != nil && ready.Status == metav1.ConditionTrue && stalled {
		fail("Ready=True beside Reconciling=%v Stalled=%v", reconciling, stalled)
	}
	if stalled && (ready == nil || ready.Status != metav1.ConditionFalse) {
		fail("Stalled=True but Ready is not False")
	}
	for _, c := range conds {
		if c.ObservedGeneration > gen {
			fail("condition %s observed generation %d, the object is at %d", c.Type, c.ObservedGeneration, gen)
		}
	}
	settled := freshReady ||
		(stalled && apimeta.FindStatusCondition(conds, meta.StalledCondition).ObservedGeneration == gen)
	if !suspended && settled && obj.GetObservedGeneration() != gen {
		fail("conditions settled at generation %d but status.observedGeneration is %d (a half-written status)",
			gen, obj.GetObservedGeneration())
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s/%s is not kstatus-compliant: %w; conditions: %s",
			obj.GetNamespace(), obj.GetName(), errors.Join(errs...), describe(conds))
	}
	return nil
}
