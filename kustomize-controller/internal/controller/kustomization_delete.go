package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/steps"
)

// finalize applies spec.deletionPolicy to the objects in the inventory before the finalizer
// goes: MirrorPrune deletes them when spec.prune is set, Delete always, Orphan never, and
// WaitForTermination deletes them and waits until they are gone. Only objects whose ownership
// labels still name this Kustomization are deleted.
func (r *KustomizationReconciler) finalize(ctx context.Context, obj *kustomizev1.Kustomization) error {
	r.applied.forget(client.ObjectKeyFromObject(obj))
	r.requests.forget(client.ObjectKeyFromObject(obj))
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
	manager, _, err := r.resourceManager(ctx, obj)
	if err != nil {
		return err
	}
	_, err = manager.DeleteAll(ctx, objects, ssa.DeleteOptions{
		PropagationPolicy: "Background",
		Inclusions:        manager.GetOwnerLabels(obj.Name, obj.Namespace),
		Exclusions:        map[string]string{PruneAnnotation: "disabled"},
	})
	if err != nil {
		return fmt.Errorf("deleting the applied objects: %w", err)
	}
	if policy == kustomizev1.DeletionPolicyWaitForTermination {
		if err := manager.WaitForTermination(objects, ssa.WaitOptions{Interval: ssaWaitInterval, Timeout: obj.GetTimeout()}); err != nil {
			return fmt.Errorf("waiting for the applied objects to terminate: %w", err)
		}
	}
	return nil
}
