package controller

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	"weir.dev/pkg/gate"
	"weir.dev/pkg/steps"
)

// windowGate returns the hold of a desired state the sync windows do not allow applying now,
// nil when they do. Drift correction of the applied state goes on outside the windows unless
// spec.selfHeal is InWindow. A new value of the reconcile.weir.dev/overrideWindow annotation
// (`weir reconcile --override-window`) lets this one run apply regardless, with an event.
func (r *KustomizationReconciler) windowGate(sc *ksScope, windows *gate.Windows, isNew bool, now time.Time) *gate.Hold {
	obj := sc.obj
	if !isNew && !obj.Spec.HealsOnlyInWindow() {
		return nil
	}
	d := windows.Evaluate(now)
	if d.Allowed {
		return nil
	}
	if v := obj.GetAnnotations()[meta.OverrideWindowAnnotation]; v != "" && v != obj.Status.LastHandledWindowOverride {
		obj.Status.LastHandledWindowOverride = v
		r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeNormal, meta.SyncWindowOverriddenReason, steps.ActionReconcile,
			"applying revision %s outside the sync windows (%s) at the request %s=%s", sc.artifact.Revision, d.Why, meta.OverrideWindowAnnotation, v)
		return nil
	}
	return gate.ForWindow(sc.artifact.Revision, d, now)
}

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t) }
