package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/patch"
	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/steps"
)

// finalize applies spec.deletionPolicy to the objects in the inventory before the finalizer
// goes: MirrorPrune deletes them when spec.prune is set, Delete always, Orphan never, and
// WaitForTermination deletes them and waits until they are gone. Only objects whose ownership
// labels still name this Kustomization are deleted, and none another Kustomization claims
// (handed over, see kustomization_handover.go). The pre-delete hooks run first, and the hook
// objects go too (see kustomization_hooks.go); objects with waves go in reverse wave order.
//
// The deletion is bounded by spec.timeout from the deletion request: until then, objects that
// could not be deleted (forbidden to this identity, or another error) or are still terminating
// keep the finalizer and are retried, shown in PruneFailed and Ready and a Warning event; after
// it, the finalizer is released with a last Warning event naming them, and they are left in
// place. A Kustomization therefore never blocks its own deletion, or its namespace's, for ever.
func (r *KustomizationReconciler) finalize(ctx context.Context, obj *kustomizev1.Kustomization) error {
	r.applied.forget(client.ObjectKeyFromObject(obj))
	r.requests.forget(client.ObjectKeyFromObject(obj))
	r.claims.set(client.ObjectKeyFromObject(obj), nil)
	policy := obj.GetDeletionPolicy()
	remove := policy == kustomizev1.DeletionPolicyDelete || policy == kustomizev1.DeletionPolicyWaitForTermination ||
		(policy == kustomizev1.DeletionPolicyMirrorPrune && obj.Spec.Prune)
	if !remove || obj.Spec.Suspend || inventoryLen(obj.Status.Inventory) == 0 {
		return nil
	}
	objects, err := staleObjects(obj.Status.Inventory, &meta.ResourceInventory{})
	if err != nil {
		return err
	}
	if gone, err := r.Identities.Gone(ctx, identity.Target{
		Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName, KubeConfig: obj.Spec.KubeConfig,
	}); err != nil {
		return err
	} else if gone != "" {
		// Waiting would block the deletion, and that of its namespace, for ever.
		r.EventRecorder.AnnotatedEventf(obj, nil, nil, corev1.EventTypeWarning, kustomizev1.PruneFailedReason, steps.ActionReconcile,
			"leaving %d applied objects in place: %s, so they cannot be deleted as the Kustomization's identity", len(objects), gone)
		return nil
	}
	manager, reader, err := r.resourceManager(ctx, obj)
	if err != nil {
		return err
	}
	objects = r.handOver(ctx, obj, objects)
	deadline := obj.GetDeletionTimestamp().Add(obj.GetTimeout())
	r.preDelete(ctx, obj, manager, deadline)
	d := deleteInWaveOrder(ctx, manager, objects, obj.Name, obj.Namespace, deadline)
	if err := d.problem(); err != nil {
		return r.deletionBlocked(ctx, obj, deadline, fmt.Errorf("deleting the applied objects: %w", err))
	}
	if policy != kustomizev1.DeletionPolicyWaitForTermination || len(d.deleted) == 0 {
		return nil
	}
	left := waitTerminated(ctx, manager, reader, d.deleted, deadline)
	if len(left) > 0 {
		return r.deletionBlocked(ctx, obj, deadline, fmt.Errorf("deleted objects still terminating: %s", describeObjects(left)))
	}
	return nil
}

// deletionBlocked reports that the deletion cannot complete, for cause, in PruneFailed and
// Ready and (when the report is new) a Warning event. Before deadline it returns cause, so
// the finalizer stays and the deletion is retried; from deadline on it returns nil, releasing
// the finalizer and leaving what cause names in place.
func (r *KustomizationReconciler) deletionBlocked(ctx context.Context, obj *kustomizev1.Kustomization, deadline time.Time, cause error) error {
	var msg string
	if time.Now().Before(deadline) {
		msg = fmt.Sprintf("%s; retrying until %s, then leaving them in place", cause, deadline.UTC().Format(time.RFC3339))
	} else {
		msg = fmt.Sprintf("%s; the finalizer is released after spec.timeout (%s), leaving them as they are", cause, obj.GetTimeout())
	}
	if r.markDeletion(ctx, obj, msg) {
		r.EventRecorder.AnnotatedEventf(obj, nil, nil, corev1.EventTypeWarning, kustomizev1.PruneFailedReason, steps.ActionReconcile, "%s", msg)
	}
	if time.Now().Before(deadline) {
		return cause
	}
	return nil
}

// markDeletion sets PruneFailed and Ready to msg and writes them at once (the frame writes no
// status while finalizing), on a copy so that releasing the finalizer patches metadata only.
// It reports whether the message is new.
func (r *KustomizationReconciler) markDeletion(ctx context.Context, obj *kustomizev1.Kustomization, msg string) bool {
	shown := obj.DeepCopy()
	if conditions.IsTrue(shown, kustomizev1.PruneFailedCondition) && conditions.GetMessage(shown, kustomizev1.PruneFailedCondition) == msg {
		return false
	}
	patcher := patch.NewSerialPatcher(shown, r.Client)
	conditions.MarkTrue(shown, kustomizev1.PruneFailedCondition, kustomizev1.PruneFailedReason, "%s", msg)
	conditions.MarkFalse(shown, meta.ReadyCondition, kustomizev1.PruneFailedReason, "%s", msg)
	if err := patcher.Patch(ctx, shown, patch.WithFieldOwner(r.ControllerName),
		patch.WithOwnedConditions{Conditions: kustomizationOwnedConditions}); err != nil && !apierrors.IsNotFound(err) {
		ctrl.LoggerFrom(ctx).Error(err, "recording why the deletion cannot complete")
	}
	return true
}

// waitTerminated waits until deadline for objects to be gone, and returns those still there
// (or that could not be read).
func waitTerminated(ctx context.Context, manager *ssa.ResourceManager, reader client.Reader, objects []*unstructured.Unstructured, deadline time.Time) []*unstructured.Unstructured {
	if remaining := time.Until(deadline); remaining > 0 {
		if manager.WaitForTermination(objects, ssa.WaitOptions{Interval: ssaWaitInterval, Timeout: remaining}) == nil {
			return nil
		}
	}
	var left []*unstructured.Unstructured
	for _, o := range objects {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		if err := reader.Get(ctx, client.ObjectKeyFromObject(o), live); !apierrors.IsNotFound(err) {
			left = append(left, o)
		}
	}
	return left
}
