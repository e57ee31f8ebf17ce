package controller

import (
	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The inventory (status.inventory) lists the objects this Kustomization applied and may
// later prune or delete. It holds only objects that exist because this owner applied them:
//
//   - after a successful apply, the whole built set (every object was applied or, for
//     kustomize.weir.dev/ssa: IfNotPresent, was applied once);
//   - after a failed apply, the previous inventory plus the objects this run really applied.
//     An object the API server refused (RBAC, admission, an invalid field) was never created
//     by us; tracking it would make every later prune, and the deletion, fail on it.
//
// Prune and deletion then drop an entry once its object is deleted or found gone, and also
// when this owner's identity may not read or delete it (Forbidden): that object is left in
// place and reported, instead of failing every run and blocking the deletion for ever.

// appliedObjects returns the objects of desired that a failed apply left applied by this
// owner: those it wrote, and those the change set of the stages that completed reports
// created, configured or already as desired (so carrying this owner's labels).
func appliedObjects(desired []*unstructured.Unstructured, changes *ssa.ChangeSet, observed *observingClient) []*unstructured.Unstructured {
	inSet := map[object.ObjMetadata]bool{}
	if changes != nil {
		for _, e := range changes.Entries {
			switch e.Action {
			case ssa.CreatedAction, ssa.ConfiguredAction, ssa.UnchangedAction:
				inSet[e.ObjMetadata] = true
			}
		}
	}
	var out []*unstructured.Unstructured
	for _, o := range desired {
		id := object.UnstructuredToObjMetadata(o)
		if inSet[id] || observed.wrote(id) {
			out = append(out, o)
		}
	}
	return out
}
