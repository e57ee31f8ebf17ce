package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/patch"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/identity"
)

// finalize uninstalls the release (honouring spec.uninstall, keepHistory included) and
// deletes the HelmChart made from spec.chart, before the frame removes the finalizer. A
// suspended HelmRelease leaves its release in place. A release whose records do not carry
// this HelmRelease's ownership labels is never uninstalled: it was installed by someone else
// and never upgraded by this object. A failed uninstall sets Ready=False (UninstallFailed),
// emits a warning and is retried, unless the identity it must act as no longer exists: then
// the release is left in place, with a warning.
func (r *HelmReleaseReconciler) finalize(ctx context.Context, obj *helmv1.HelmRelease) error {
	gone, err := r.Identities.Gone(ctx, identity.Target{
		Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName, KubeConfig: obj.Spec.KubeConfig,
	})
	if err != nil {
		return err
	}
	if gone != "" && !obj.Spec.Suspend {
		// Retrying as an account that cannot come back would block the deletion, and that of
		// its namespace, for ever.
		r.EventRecorder.AnnotatedEventf(obj, nil, nil, corev1.EventTypeWarning, helmv1.UninstallFailedReason, "uninstall",
			"release left in place: %s, so it cannot be uninstalled as the HelmRelease's identity", gone)
	}
	if !obj.Spec.Suspend && gone == "" {
		if err := r.uninstall(ctx, obj); err != nil {
			patcher := patch.NewSerialPatcher(obj, r.Client)
			conditions.MarkFalse(obj, meta.ReadyCondition, helmv1.UninstallFailedReason, "%s", err)
			if perr := patcher.Patch(ctx, obj, patch.WithFieldOwner(r.ControllerName),
				patch.WithOwnedConditions{Conditions: helmReleaseOwnedConditions}); perr != nil && !apierrors.IsNotFound(perr) {
				ctrl.LoggerFrom(ctx).Error(perr, "patching the status")
			}
			r.EventRecorder.AnnotatedEventf(obj, nil, nil, corev1.EventTypeWarning, helmv1.UninstallFailedReason, "uninstall", "%s", err)
			return err
		}
	}
	return r.deleteHelmChart(ctx, obj)
}

// uninstall uninstalls the release this HelmRelease made, named from status (the one actually
// made) or else from the spec.
func (r *HelmReleaseReconciler) uninstall(ctx context.Context, obj *helmv1.HelmRelease) error {
	t := release.Target{Name: obj.GetReleaseName(), Namespace: obj.GetReleaseNamespace(), StorageNamespace: obj.GetStorageNamespace(), MaxHistory: obj.GetMaxHistory()}
	if prev := previousTarget(obj); prev != nil {
		t = *prev
	}
	return r.uninstallTarget(ctx, obj, t)
}

// previousTarget is the release status.history and status.storageNamespace name, or nil
// before the first release.
func previousTarget(obj *helmv1.HelmRelease) *release.Target {
	l := obj.Status.History.Latest()
	if l == nil {
		return nil
	}
	storage := obj.Status.StorageNamespace
	if storage == "" {
		storage = obj.GetStorageNamespace()
	}
	return &release.Target{Name: l.Name, Namespace: l.Namespace, StorageNamespace: storage, MaxHistory: obj.GetMaxHistory()}
}

// uninstallTarget uninstalls release t if it is still there and its records carry obj's
// ownership labels; a release installed by someone else and never upgraded by obj is left in
// place, with an event saying so.
func (r *HelmReleaseReconciler) uninstallTarget(ctx context.Context, obj *helmv1.HelmRelease, t release.Target) error {
	runner, err := r.runnerFor(ctx, obj, t)
	if err != nil {
		return err
	}
	state, err := runner.Observe(ownerLabels(obj), release.Desired{})
	if err != nil {
		return err
	}
	if state.Current == nil || state.Kind == release.Absent {
		return nil
	}
	ref := releaseRef(runner)
	if !release.Owned(state.Current, ownerLabels(obj)) {
		r.EventRecorder.AnnotatedEventf(obj, nil, nil, corev1.EventTypeNormal, helmv1.ReleaseNotOwnedReason, "uninstall",
			"release %s was left in place: its records do not name this HelmRelease as their owner", ref)
		return nil
	}
	if err := runner.Uninstall(uninstallOptions(obj)); err != nil {
		return fmt.Errorf("Helm uninstall failed for release %s: %w", ref, err)
	}
	r.EventRecorder.AnnotatedEventf(obj, nil, nil, corev1.EventTypeNormal, helmv1.UninstallSucceededReason, "uninstall",
		"Helm uninstall succeeded for release %s", ref)
	return nil
}
