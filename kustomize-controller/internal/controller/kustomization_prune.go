package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "weir.dev/api/kustomize/v1"
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
