package controller

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	"weir.dev/pkg/gate"
)

// windowHold returns the hold of an install or upgrade the sync windows do not allow now,
// nil when they do. Correcting an unchanged desired state goes on outside the windows unless
// spec.selfHeal is InWindow. A new value of reconcile.weir.dev/overrideWindow (`weir reconcile
// --override-window`) lets this one run go ahead regardless, with an event.
func (r *HelmReleaseReconciler) windowHold(sc *hrScope, windows *gate.Windows, isNew bool, now time.Time) *gate.Hold {
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
		r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeNormal, meta.SyncWindowOverriddenReason, "release",
			"releasing %s outside the sync windows (%s) at the request %s=%s", sc.revision, d.Why, meta.OverrideWindowAnnotation, v)
		return nil
	}
	return gate.ForWindow(sc.revision, d, now)
}

// healHeld says why drift of the in-sync release is not corrected now, "" when it is: under
// spec.driftApproval: Manual it is only reported (a forced release, reconcile.weir.dev/forceAt,
// corrects it), and under spec.selfHeal: InWindow it waits for the windows.
func (r *HelmReleaseReconciler) healHeld(sc *hrScope) string {
	obj := sc.obj
	if obj.Spec.DriftNeedsApproval() {
		return "spec.driftApproval is Manual: a forced release corrects it"
	}
	if !obj.Spec.HealsOnlyInWindow() {
		return ""
	}
	windows, err := gate.ParseWindows(obj.Spec.SyncWindows)
	if err != nil {
		return err.Error()
	}
	if d := windows.Evaluate(r.now()); !d.Allowed {
		return "spec.selfHeal is InWindow, " + d.Why
	}
	return ""
}

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t) }
