package preview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	"github.com/pmezard/go-difflib/difflib"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/kustomize/build"
)

// Annotations kustomize-controller reads on the objects it applies.
const (
	ssaAnnotation   = "kustomize.weir.dev/ssa"
	pruneAnnotation = "kustomize.weir.dev/prune"
)

// Change is what applying the build would do to one object.
type Change string

// The changes Diff reports.
const (
	Created   Change = "created"
	Changed   Change = "changed"
	Unchanged Change = "unchanged"
	Deleted   Change = "deleted"
	Skipped   Change = "skipped"
)

// Result is the outcome of a Diff.
type Result struct {
	// Changes counts the objects per change.
	Changes map[Change]int
}

// HasChanges reports whether applying the build would create, change or delete anything.
func (r Result) HasChanges() bool {
	return r.Changes[Created]+r.Changes[Changed]+r.Changes[Deleted] > 0
}

// Diff compares objects (from Build) with the live cluster by a server-side dry-run apply of
// each one as kustomize-controller, with its apply policies (kustomize.weir.dev/ssa Ignore and
// IfNotPresent, spec.force), and writes to w one line per object and a unified diff of the
// YAML of each one that would change. Objects of ks's inventory that the build no longer has
// are shown as deleted when spec.prune is set and they are not annotated
// kustomize.weir.dev/prune: disabled. Secret values are masked on both sides; SOPS-encrypted
// objects are skipped, as there are no keys to decrypt them. Each object's line starts with the
// file and line it came from, when origins knows it.
func Diff(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, objects []*unstructured.Unstructured, origins build.Origins, w io.Writer) (Result, error) {
	res := Result{Changes: map[Change]int{}}
	manager := ssa.NewResourceManager(c, nil, Owner)
	opts := ssa.DiffOptions{
		Exclusions:           map[string]string{ssaAnnotation: "Ignore"},
		IfNotPresentSelector: map[string]string{ssaAnnotation: "IfNotPresent"},
		Force:                ks.Spec.Force,
	}
	built, err := diffObjects(ctx, manager, opts, objects, func(obj *unstructured.Unstructured) string { return originOf(origins, obj) }, w, res)
	if err != nil {
		return res, err
	}
	if !ks.Spec.Prune || ks.Status.Inventory == nil {
		return res, nil
	}
	for _, ref := range ks.Status.Inventory.Entries {
		id, err := object.ParseObjMetadata(ref.ID)
		if err != nil {
			return res, fmt.Errorf("status.inventory: %w", err)
		}
		if built[id] {
			continue
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
		if live.GetAnnotations()[pruneAnnotation] == "disabled" || !ownedBy(live, ks) {
			continue
		}
		res.Changes[Deleted]++
		if err := report(w, subject(id), Deleted, live, nil); err != nil {
			return res, err
		}
	}
	return res, nil
}

// diffObjects dry-runs each of objects through manager (Namespaces and CRDs first) and writes
// its line, prefixed by origin(obj), and the diff of a change to w, counting the changes in
// res. It returns the objects it saw.
func diffObjects(ctx context.Context, manager *ssa.ResourceManager, opts ssa.DiffOptions, objects []*unstructured.Unstructured, origin func(*unstructured.Unstructured) string, w io.Writer, res Result) (map[object.ObjMetadata]bool, error) {
	built := map[object.ObjMetadata]bool{}
	// What the build creates that later objects need: the dry run of an object in a new
	// namespace, or of a new CRD's kind, fails, and the object is then created too.
	newNamespaces, newKinds := map[string]bool{}, map[schema.GroupKind]bool{}
	for _, obj := range definitionsFirst(objects) {
		id := object.UnstructuredToObjMetadata(obj)
		built[id] = true
		if _, encrypted := obj.Object["sops"]; encrypted {
			// Without the keys there is nothing to compare: the controller decrypts it.
			res.Changes[Skipped]++
			if _, err := fmt.Fprintf(w, "► %s%s skipped (SOPS-encrypted)\n", origin(obj), subject(id)); err != nil {
				return built, err
			}
			continue
		}
		entry, live, merged, err := manager.Diff(ctx, obj.DeepCopy(), opts)
		if err != nil {
			if !needsNew(err, obj, newNamespaces, newKinds) {
				return built, err
			}
			entry = &ssa.ChangeSetEntry{Action: ssa.CreatedAction}
		}
		if entry.Action == ssa.CreatedAction {
			switch {
			case obj.GroupVersionKind() == namespaceKind:
				newNamespaces[obj.GetName()] = true
			case obj.GroupVersionKind().GroupKind() == crdKind:
				group, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
				kind, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "kind")
				newKinds[schema.GroupKind{Group: group, Kind: kind}] = true
			}
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
		if err := reportFrom(w, origin(obj), subject(id), change, live, merged); err != nil {
			return built, err
		}
	}
	return built, nil
}

var (
	namespaceKind = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	crdKind       = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
)

// definitionsFirst returns objects with the Namespaces and CRDs first, each group in its order.
func definitionsFirst(objects []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(objects))
	for _, first := range []bool{true, false} {
		for _, obj := range objects {
			gvk := obj.GroupVersionKind()
			if (gvk == namespaceKind || gvk.GroupKind() == crdKind) == first {
				out = append(out, obj)
			}
		}
	}
	return out
}

// needsNew reports whether the dry run of obj failed only because its namespace or the CRD
// of its kind is among those the build creates.
func needsNew(err error, obj *unstructured.Unstructured, namespaces map[string]bool, kinds map[schema.GroupKind]bool) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if apimeta.IsNoMatchError(e) {
			return kinds[obj.GroupVersionKind().GroupKind()]
		}
	}
	return apierrors.IsNotFound(err) && namespaces[obj.GetNamespace()]
}

// originOf is "path:line: " for obj, "" when origins does not know it.
func originOf(origins build.Origins, obj *unstructured.Unstructured) string {
	if o := origins.Of(obj); o != "" {
		return o + ": "
	}
	return ""
}

// report writes the line for one object and, for a change, the unified diff from live to merged.
func report(w io.Writer, name string, change Change, live, merged *unstructured.Unstructured) error {
	return reportFrom(w, "", name, change, live, merged)
}

// reportFrom is report with the line prefixed by origin.
func reportFrom(w io.Writer, origin, name string, change Change, live, merged *unstructured.Unstructured) error {
	if _, err := fmt.Fprintf(w, "► %s%s %s\n", origin, name, change); err != nil {
		return err
	}
	if change == Unchanged || change == Skipped {
		return nil
	}
	redact(live, merged)
	from, err := toYAML(live)
	if err != nil {
		return err
	}
	to, err := toYAML(merged)
	if err != nil {
		return err
	}
	fromFile, toFile := "live/"+name, "build/"+name
	if live == nil {
		fromFile = "/dev/null"
	}
	if merged == nil {
		toFile = "/dev/null"
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: splitLines(from), B: splitLines(to), FromFile: fromFile, ToFile: toFile, Context: 3,
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, text)
	return err
}

// splitLines splits text into lines that keep their newline; empty text has none.
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// toYAML renders obj for a diff, without status and the metadata the server manages; nil is
// empty.
func toYAML(obj *unstructured.Unstructured) (string, error) {
	if obj == nil {
		return "", nil
	}
	obj = obj.DeepCopy()
	for _, f := range []string{"managedFields", "creationTimestamp", "resourceVersion", "uid", "generation"} {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(obj.Object, "status")
	b, err := yaml.Marshal(obj.Object)
	return string(b), err
}

// ownedBy reports whether obj's ownership labels name ks: only those objects are ever pruned.
func ownedBy(obj *unstructured.Unstructured, ks *kustomizev1.Kustomization) bool {
	l := obj.GetLabels()
	return l[Owner.Group+"/name"] == ks.Name && l[Owner.Group+"/namespace"] == ks.Namespace
}

func subject(id object.ObjMetadata) string {
	if id.Namespace == "" {
		return id.GroupKind.Kind + "/" + id.Name
	}
	return id.GroupKind.Kind + "/" + id.Namespace + "/" + id.Name
}

func groupVersion(group, version string) string {
	if group == "" {
		return version
	}
	return strings.Join([]string{group, version}, "/")
}
