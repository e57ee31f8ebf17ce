package controller

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/steps"
)

// reconcilePrune deletes the objects of the old inventory no longer built, when spec.prune is
// set: only those whose ownership labels still name this Kustomization, never those annotated
// kustomize.weir.dev/prune: disabled, nor those another Kustomization now builds and was
// refused (handed over, see kustomization_handover.go). An object that fails to delete stays in the inventory
// and is retried; one this Kustomization's identity may not read or delete is left in place
// and dropped from the inventory (see kustomization_inventory.go). Either fails the run. It
// sets PruneFailed.
func (r *KustomizationReconciler) reconcilePrune(ctx context.Context, sc *ksScope) error {
	if !sc.obj.Spec.Prune || (len(sc.stale) == 0 && (sc.plan == nil || len(sc.plan.dropped) == 0)) {
		conditions.Delete(sc.obj, kustomizev1.PruneFailedCondition)
		return nil
	}
	stale := r.handOver(ctx, sc.obj, sc.stale)
	d := r.pruneStale(ctx, sc, stale)
	sc.pruned = d.changes
	countPrunes(d.deleted)
	if err := d.problem(); err != nil {
		sc.obj.Status.Inventory = mergeInventories(sc.inventory, inventoryOf(d.failed))
		err = fmt.Errorf("pruning: %w", err)
		if len(d.forbidden) > 0 {
			err = fmt.Errorf("%w; left in place and no longer tracked: delete by hand what should go", err)
		}
		conditions.MarkTrue(sc.obj, kustomizev1.PruneFailedCondition, kustomizev1.PruneFailedReason, "%s", err)
		return steps.Failed(kustomizev1.PruneFailedReason, err)
	}
	conditions.Delete(sc.obj, kustomizev1.PruneFailedCondition)
	return nil
}

// deletion is what deleting a set of applied objects did to each of them.
type deletion struct {
	changes   *ssa.ChangeSet               // the objects deleted, found gone, or skipped
	deleted   []*unstructured.Unstructured // deleted or found gone (not skipped)
	forbidden []*unstructured.Unstructured // the identity may not read or delete them: left in place
	failed    []*unstructured.Unstructured // any other error: still there, to retry
	firstErr  error                        // the first error of forbidden or failed
}

// deleteApplied deletes objects (in reverse apply order) as manager's identity, but only
// those whose ownership labels name the Kustomization namespace/name and that are not
// annotated kustomize.weir.dev/prune: disabled. It never stops at an error.
func deleteApplied(ctx context.Context, manager *ssa.ResourceManager, objects []*unstructured.Unstructured, name, namespace string) deletion {
	objects = append([]*unstructured.Unstructured(nil), objects...)
	sort.Sort(sort.Reverse(ssa.SortableUnstructureds(objects)))
	opts := ssa.DeleteOptions{
		PropagationPolicy: metav1.DeletePropagationBackground,
		Inclusions:        manager.GetOwnerLabels(name, namespace),
		Exclusions:        map[string]string{PruneAnnotation: "disabled"},
	}
	d := deletion{changes: ssa.NewChangeSet()}
	for _, o := range objects {
		entry, err := manager.Delete(ctx, o, opts)
		switch {
		case err == nil || apierrors.IsNotFound(err): // NotFound: gone since it was read
			if err != nil {
				entry.Action = ssa.DeletedAction
			}
			d.changes.Add(*entry)
			if entry.Action == ssa.DeletedAction {
				d.deleted = append(d.deleted, o)
			}
			continue
		case apierrors.IsForbidden(err):
			d.forbidden = append(d.forbidden, o)
		default:
			d.failed = append(d.failed, o)
		}
		if d.firstErr == nil {
			d.firstErr = err
		}
	}
	return d
}

// problem describes the objects not deleted, nil when there are none.
func (d deletion) problem() error {
	var parts []string
	if len(d.forbidden) > 0 {
		parts = append(parts, "not permitted to delete "+describeObjects(d.forbidden))
	}
	if len(d.failed) > 0 {
		parts = append(parts, "failed to delete "+describeObjects(d.failed))
	}
	if len(parts) == 0 {
		return nil
	}
	return fmt.Errorf("%s (%w)", strings.Join(parts, "; "), d.firstErr)
}

// describeObjects names up to five objects, and how many more there are.
func describeObjects(objects []*unstructured.Unstructured) string {
	set := make(object.ObjMetadataSet, 0, len(objects))
	for _, o := range objects {
		set = append(set, object.UnstructuredToObjMetadata(o))
	}
	return describeSet(set)
}

// pruneStale deletes the stale objects, and the hook objects no longer built: in reverse wave
// order (see deleteInWaveOrder) when the build has waves; otherwise all at once, as always.
func (r *KustomizationReconciler) pruneStale(ctx context.Context, sc *ksScope, stale []*unstructured.Unstructured) deletion {
	if sc.plan != nil && len(sc.plan.dropped) > 0 {
		stale = append(append([]*unstructured.Unstructured(nil), stale...), sc.plan.dropped...)
	}
	if !sc.plan.waved() {
		return deleteApplied(ctx, sc.manager, stale, sc.obj.Name, sc.obj.Namespace)
	}
	return deleteInWaveOrder(ctx, sc.manager, stale, sc.obj.Name, sc.obj.Namespace, time.Now().Add(sc.obj.GetTimeout()))
}

// deleteInWaveOrder deletes objects in reverse wave order, each wave gone (until deadline,
// best effort) before the next. Their waves are read from the live objects, one GET each: the
// objects may no longer be built. Objects all of one wave are deleted at once, as
// deleteApplied does.
func deleteInWaveOrder(ctx context.Context, manager *ssa.ResourceManager, objects []*unstructured.Unstructured, name, namespace string, deadline time.Time) deletion {
	byWave := map[int][]*unstructured.Unstructured{}
	for _, o := range objects {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		n := 0
		if err := manager.Client().Get(ctx, client.ObjectKeyFromObject(o), live); err == nil {
			n, _ = waveOf(live) // an invalid value counts as 0: the object is going anyway
		}
		byWave[n] = append(byWave[n], o)
	}
	if len(byWave) <= 1 {
		return deleteApplied(ctx, manager, objects, name, namespace)
	}
	nums := make([]int, 0, len(byWave))
	for n := range byWave {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	slices.Reverse(nums)
	total := deletion{changes: ssa.NewChangeSet()}
	for _, n := range nums {
		d := deleteApplied(ctx, manager, byWave[n], name, namespace)
		total.changes.Append(d.changes.Entries)
		total.deleted = append(total.deleted, d.deleted...)
		total.forbidden = append(total.forbidden, d.forbidden...)
		total.failed = append(total.failed, d.failed...)
		if total.firstErr == nil {
			total.firstErr = d.firstErr
		}
		if left := time.Until(deadline); len(d.deleted) > 0 && left > 0 {
			// Best effort: what is still terminating does not stop the deletion.
			_ = manager.WaitForTermination(d.deleted, ssa.WaitOptions{Interval: ssaWaitInterval, Timeout: left})
		}
	}
	return total
}

// staleObjects returns the entries of old missing from current, as objects to delete.
func staleObjects(old, current *meta.ResourceInventory) ([]*unstructured.Unstructured, error) {
	if old == nil {
		return nil, nil
	}
	keep := map[string]bool{}
	for _, e := range current.Entries {
		keep[e.ID] = true
	}
	var out []*unstructured.Unstructured
	for _, e := range old.Entries {
		if keep[e.ID] {
			continue
		}
		id, err := object.ParseObjMetadata(e.ID)
		if err != nil {
			return nil, fmt.Errorf("status.inventory entry %q: %w", e.ID, err)
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(id.GroupKind.WithVersion(e.Version))
		u.SetNamespace(id.Namespace)
		u.SetName(id.Name)
		out = append(out, u)
	}
	return out, nil
}
