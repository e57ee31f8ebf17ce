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

// mayHeal reports whether drift of the in-sync release may be corrected now: always, unless
// spec.selfHeal is InWindow and the windows do not allow applying.
func (r *HelmReleaseReconciler) mayHeal(sc *hrScope) bool {
	obj := sc.obj
	if !obj.Spec.HealsOnlyInWindow() {
		return true
	}
	windows, err := gate.ParseWindows(obj.Spec.SyncWindows)
	return err == nil && windows.Allowed(r.now())
}

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t) }
