package preview

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/generate"
)

// RenderFailed is an input whose template did not render: its objects would keep their spec.
const RenderFailed Change = "failed to render"

// SetOwner is the identity kustomize-controller applies a ResourceSet's objects with.
var SetOwner = ssa.Owner{Field: Owner.Field, Group: setsv1.GroupVersion.Group}

// DiffSet renders set as kustomize-controller would, with dir as the root of its source's
// artifact (for directories and files generators; "" when it has no source), and compares each
// object with the live cluster by a server-side dry-run apply. It writes one line per object
// (created, changed, unchanged), a unified diff of each one that would change, the inputs that
// fail to render, and the objects of the set's inventory no input renders any more (deleted
// with spec.prune, otherwise left in place). A rollout in steps applies the changes over time;
// this shows them all.
func DiffSet(ctx context.Context, c client.Client, set *setsv1.ResourceSet, dir string, w io.Writer) (Result, error) {
	res := Result{Changes: map[Change]int{}}
	var root *os.Root
	if dir != "" {
		r, err := os.OpenRoot(dir)
		if err != nil {
			return res, err
		}
		defer r.Close()
		root = r
	}
	inputs, err := generate.Inputs(set.Spec.Generators, root)
	if err != nil {
		return res, err
	}
	tpl, err := generate.Parse(set.Spec.Template)
	if err != nil {
		return res, err
	}
	namespaced := func(gvk schema.GroupVersionKind) (bool, error) {
		m, err := c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return false, err
		}
		return m.Scope.Name() == apimeta.RESTScopeNameNamespace, nil
	}
	previous := map[string][]string{}
	for _, in := range set.Status.Inputs {
		previous[in.Name] = in.Objects
	}
	manager := ssa.NewResourceManager(c, nil, SetOwner)
	opts := ssa.DiffOptions{Exclusions: map[string]string{ssaAnnotation: "Ignore"}, IfNotPresentSelector: map[string]string{ssaAnnotation: "IfNotPresent"}}
	rendered := map[string]bool{}
	for _, in := range inputs {
		objs, err := tpl.Render(in)
		if err == nil {
			err = generate.Label(objs, set, in.Name, namespaced)
		}
		if err != nil {
			res.Changes[RenderFailed]++
			for _, id := range previous[in.Name] {
				rendered[id] = true // kept as they are
			}
			if _, err := fmt.Fprintf(w, "✗ %s\n", err); err != nil {
				return res, err
			}
			continue
		}
		for _, obj := range objs {
			id := object.UnstructuredToObjMetadata(obj)
			rendered[id.String()] = true
			entry, live, merged, err := manager.Diff(ctx, obj.DeepCopy(), opts)
			if err != nil {
				if !apierrors.IsNotFound(err) && !apimeta.IsNoMatchError(err) {
					return res, fmt.Errorf("input %s: %w", in.Name, err)
				}
				entry = &ssa.ChangeSetEntry{Action: ssa.CreatedAction}
			}
			change := Unchanged
			switch entry.Action {
			case ssa.CreatedAction:
				change, merged = Created, obj.DeepCopy()
			case ssa.ConfiguredAction:
				change = Changed
			case ssa.SkippedAction:
				change = Skipped
			}
			res.Changes[change]++
			if err := report(w, subject(id)+" (input "+in.Name+")", change, live, merged); err != nil {
				return res, err
			}
		}
	}
	if set.Status.Inventory == nil {
		return res, nil
	}
	for _, ref := range set.Status.Inventory.Entries {
		if rendered[ref.ID] {
			continue
		}
		id, err := object.ParseObjMetadata(ref.ID)
		if err != nil {
			return res, fmt.Errorf("status.inventory: %w", err)
		}
		live := &unstructured.Unstructured{}
		live.SetAPIVersion(groupVersion(id.GroupKind.Group, ref.Version))
		live.SetKind(id.GroupKind.Kind)
		if err := c.Get(ctx, client.ObjectKey{Namespace: id.Namespace, Name: id.Name}, live); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return res, err
		}
		l := live.GetLabels()
		owned := l[setsv1.OwnerNameLabel] == set.Name && l[setsv1.OwnerNamespaceLabel] == set.Namespace
		if !set.Spec.Prune || !owned || live.GetAnnotations()[pruneAnnotation] == "disabled" {
			if _, err := fmt.Fprintf(w, "► %s no longer generated (left in place: not pruned)\n", subject(id)); err != nil {
				return res, err
			}
			continue
		}
		res.Changes[Deleted]++
		if err := report(w, subject(id), Deleted, live, nil); err != nil {
			return res, err
		}
	}
	return res, nil
}
