package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"

	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/steps"
)

// reconcileSetPrune, once every step is Ready, deals with the inventory's objects that no
// input renders any more (their input disappeared, or stopped rendering them): with
// spec.prune it deletes those whose ownership labels still name this set (never those
// annotated kustomize.weir.dev/prune: disabled); without, it stops tracking them and leaves
// them in place. Removing every input never deletes everything: that is refused. It sets
// ApplyFailed with reason PruneFailed.
func (r *ResourceSetReconciler) reconcileSetPrune(ctx context.Context, sc *setScope) error {
	obj := sc.obj
	keep := map[string]bool{}
	for _, rec := range obj.Status.Inputs {
		for _, id := range rec.Objects {
			keep[id] = true
		}
	}
	current := &meta.ResourceInventory{}
	for _, e := range inventoryEntries(obj.Status.Inventory) {
		if keep[e.ID] {
			current.Entries = append(current.Entries, e)
		}
	}
	stale, err := staleObjects(obj.Status.Inventory, current)
	if err != nil || len(stale) == 0 {
		return err
	}
	if !obj.Spec.Prune {
		obj.Status.Inventory = current
		return nil
	}
	if len(sc.inputs) == 0 {
		err := fmt.Errorf("no inputs are generated while %d objects are applied: refusing to prune them all; check spec.generators against revision %s, or set spec.prune to false and delete them by hand",
			len(stale), sc.revision)
		conditions.MarkTrue(obj, setsv1.ApplyFailedCondition, setsv1.PruneFailedReason, "%s", err)
		return steps.Stalled(setsv1.PruneFailedReason, err)
	}
	manager := r.setManager(sc.cluster)
	d := deleteApplied(ctx, manager, stale, obj.Name, obj.Namespace)
	for _, o := range d.deleted {
		sc.pruned = append(sc.pruned, describeObject(o))
	}
	obj.Status.Inventory = mergeInventories(current, inventoryOf(d.failed))
	if err := d.problem(); err != nil {
		err = fmt.Errorf("pruning: %w", err)
		conditions.MarkTrue(obj, setsv1.ApplyFailedCondition, setsv1.PruneFailedReason, "%s", err)
		return steps.Failed(setsv1.PruneFailedReason, err)
	}
	return nil
}

func inventoryEntries(inv *meta.ResourceInventory) []meta.ResourceRef {
	if inv == nil {
		return nil
	}
	return inv.Entries
}

// setManager is the apply engine of a set: it labels objects sets.weir.dev/name and /namespace.
func (r *ResourceSetReconciler) setManager(cluster *identity.Cluster) *ssa.ResourceManager {
	poller := polling.NewStatusPoller(cluster.Client, cluster.Mapper, polling.Options{})
	return ssa.NewResourceManager(cluster.Client, poller, ssa.Owner{Field: r.ControllerName, Group: setsv1.GroupVersion.Group})
}

// finalizeSet deletes the generated objects when the set is deleted with spec.prune (those
// whose ownership labels still name it); without, they are left in place.
func (r *ResourceSetReconciler) finalizeSet(ctx context.Context, obj *setsv1.ResourceSet) error {
	if !obj.Spec.Prune || obj.Spec.Suspend || inventoryLen(obj.Status.Inventory) == 0 {
		return nil
	}
	objects, err := staleObjects(obj.Status.Inventory, &meta.ResourceInventory{})
	if err != nil {
		return err
	}
	target := identity.Target{Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName}
	if gone, err := r.Identities.Gone(ctx, target); err != nil {
		return err
	} else if gone != "" {
		r.EventRecorder.AnnotatedEventf(obj, nil, nil, corev1.EventTypeWarning, setsv1.PruneFailedReason, steps.ActionReconcile,
			"leaving %d generated objects in place: %s, so they cannot be deleted as the set's identity", len(objects), gone)
		return nil
	}
	cluster, err := r.Identities.For(ctx, target)
	if err != nil {
		return err
	}
	d := deleteApplied(ctx, r.setManager(cluster), objects, obj.Name, obj.Namespace)
	if len(d.failed) > 0 {
		return d.problem()
	}
	return nil
}
