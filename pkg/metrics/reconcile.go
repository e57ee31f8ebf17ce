package metrics

import (
	"context"
	"reflect"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"weir.dev/api/meta"
)

// Object is a reconciled Weir object: it has conditions.
type Object interface {
	client.Object
	GetConditions() []metav1.Condition
}

// recorded are the condition types whose status is exported, with the status an absent one
// has: Ready is Unknown until first set; Stalled and Reconciling are abnormal-true conditions,
// present only while true (kstatus), so their absence is False.
var recorded = []struct {
	typ    string
	absent metav1.ConditionStatus
}{
	{meta.ReadyCondition, metav1.ConditionUnknown},
	{meta.StalledCondition, metav1.ConditionFalse},
	{meta.ReconcilingCondition, metav1.ConditionFalse},
}

var statuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

// ObserveReconcile records the end of a reconcile of the object called req that started at
// start: obj is the object as the reconcile leaves it (empty when it could not be read) and
// retErr the reconcile's error. It is meant to be deferred first thing in Reconcile:
//
//	defer metrics.ObserveReconcile(ctx, req, obj, time.Now(), &retErr)
//
// It observes the duration, sets the condition and suspend gauges, and logs one line that
// carries the revision (besides the kind, namespace, name and reconcileID controller-runtime's
// logger already has). An object found gone (not found, or deleted with its finalizer
// released) loses all its series instead; one that could not be read is left as it was.
func ObserveReconcile(ctx context.Context, req reconcile.Request, obj Object, start time.Time, retErr *error) {
	kind := kindOf(obj)
	gone := obj.GetName() == "" || (!obj.GetDeletionTimestamp().IsZero() && !hasWeirFinalizer(obj))
	if gone {
		if obj.GetName() == "" && retErr != nil && *retErr != nil {
			return // not read: the API server failed, the object may well exist
		}
		forget(kind, req.Namespace, req.Name)
		return
	}
	duration := time.Since(start)
	reconcileDuration.WithLabelValues(kind, req.Name, req.Namespace).Observe(duration.Seconds())
	for _, r := range recorded {
		status := r.absent
		if c := apimeta.FindStatusCondition(obj.GetConditions(), r.typ); c != nil {
			status = c.Status
		}
		for _, s := range statuses {
			v := 0.0
			if s == status {
				v = 1
			}
			reconcileCondition.WithLabelValues(kind, req.Name, req.Namespace, r.typ, string(s)).Set(v)
		}
	}
	suspended := 0.0
	if isSuspended(obj) {
		suspended = 1
	}
	suspendStatus.WithLabelValues(kind, req.Name, req.Namespace).Set(suspended)

	values := []any{"revision", revisionOf(obj), "duration", duration.Round(time.Millisecond).String()}
	if c := apimeta.FindStatusCondition(obj.GetConditions(), meta.ReadyCondition); c != nil {
		values = append(values, "ready", string(c.Status), "reason", c.Reason)
	}
	logger := log.FromContext(ctx)
	if apimeta.IsStatusConditionTrue(obj.GetConditions(), meta.ReadyCondition) {
		logger = logger.V(1) // a success is logged at debug level, a failure at info
	}
	logger.Info("reconcile finished", values...)
}

// forget removes every series of the object.
func forget(kind, namespace, name string) {
	labels := map[string]string{"kind": kind, "namespace": namespace, "name": name}
	reconcileCondition.DeletePartialMatch(labels)
	suspendStatus.DeletePartialMatch(labels)
	reconcileDuration.DeletePartialMatch(labels)
}

func hasWeirFinalizer(obj client.Object) bool {
	for _, f := range obj.GetFinalizers() {
		if f == meta.Finalizer || f == meta.LegacyFinalizer {
			return true
		}
	}
	return false
}

// kindOf names obj's kind: typed objects read through a client carry no TypeMeta, so it is
// the Go type's name, which is the kind's for every Weir type.
func kindOf(obj client.Object) string {
	if k := obj.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	t := reflect.TypeOf(obj)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// isSuspended reads spec.suspend, which every suspendable Weir kind has as Spec.Suspend.
func isSuspended(obj client.Object) bool {
	s := field(reflect.ValueOf(obj), "Spec", "Suspend")
	return s.IsValid() && s.Kind() == reflect.Bool && s.Bool()
}

// revisionOf is the source revision the object last worked on: status.lastAttemptedRevision
// (Kustomization, HelmRelease, ResourceSet), else status.lastAppliedRevision, else
// status.artifact.revision (sources); "" when it has none.
func revisionOf(obj client.Object) string {
	v := reflect.ValueOf(obj)
	for _, path := range [][]string{{"Status", "LastAttemptedRevision"}, {"Status", "LastAppliedRevision"}, {"Status", "Artifact", "Revision"}} {
		if f := field(v, path...); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
			return f.String()
		}
	}
	return ""
}

// field follows the struct fields path from v through pointers; the zero Value when one is
// missing or nil.
func field(v reflect.Value, path ...string) reflect.Value {
	for _, name := range path {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return reflect.Value{}
		}
		v = v.FieldByName(name)
		if !v.IsValid() {
			return v
		}
	}
	return v
}
