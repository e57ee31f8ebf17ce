package controller

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/generate"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/steps"
)

// setScope is what the ResourceSet steps share. Each field names the step that fills it.
type setScope struct {
	obj *setsv1.ResourceSet
	now time.Time

	artifact *meta.Artifact // reconcileSetSource: nil when the set has no source
	tree     *artifact.Tree // reconcileSetSource: released by cleanup

	cluster  *identity.Cluster // reconcileRender: whom the set applies as
	inputs   []*setInput       // reconcileRender: sorted by name
	steps    int               // reconcileRender: how many steps the inputs fill
	revision string            // reconcileRender: the source's revision and the rendering's digest

	changed []string // reconcileRollout: the inputs applied
	pruned  []string // reconcileSetPrune: the objects deleted
}

func (sc *setScope) cleanup() {
	if sc.tree != nil {
		sc.tree.Release()
	}
}

// reconcileSetSource fetches the artifact of spec.sourceRef, when there is one. A missing
// source, or one without an artifact, is waited for; a failed download sets ArtifactFailed and
// is retried, never taken for an empty set of inputs.
func (r *ResourceSetReconciler) reconcileSetSource(ctx context.Context, sc *setScope) error {
	ref := sc.obj.Spec.SourceRef
	if ref == nil {
		conditions.Delete(sc.obj, setsv1.ArtifactFailedCondition)
		return nil
	}
	ns := refNamespace(ref.Namespace, sc.obj.Namespace)
	name := fmt.Sprintf("%s '%s/%s'", ref.Kind, ns, ref.Name)
	if r.NoCrossNamespaceRefs && ns != sc.obj.Namespace {
		return steps.Stalled(meta.AccessDeniedReason, fmt.Errorf("spec.sourceRef: %s is in another namespace, which this controller does not allow", name))
	}
	var src interface {
		client.Object
		GetArtifact() *meta.Artifact
	}
	switch ref.Kind {
	case sourcev1.GitRepositoryKind:
		src = &sourcev1.GitRepository{}
	case sourcev1.OCIRepositoryKind:
		src = &sourcev1.OCIRepository{}
	default:
		return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("spec.sourceRef.kind %q is not a source kind", ref.Kind))
	}
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return steps.Waiting(meta.DependencyNotReadyReason, r.DependencyRequeue, fmt.Errorf("source %s not found", name))
		}
		return err
	}
	if src.GetArtifact() == nil {
		return steps.Waiting(meta.DependencyNotReadyReason, r.DependencyRequeue, fmt.Errorf("source %s has no artifact yet", name))
	}
	sc.artifact = src.GetArtifact().DeepCopy()
	fetchCtx, cancel := context.WithTimeout(ctx, sc.obj.GetTimeout())
	defer cancel()
	tree, err := r.Artifacts.Get(fetchCtx, sc.artifact.URL, sc.artifact.Digest)
	if err != nil {
		err = fmt.Errorf("fetching the artifact of %s at revision %s: %w", name, sc.artifact.Revision, err)
		conditions.MarkTrue(sc.obj, setsv1.ArtifactFailedCondition, meta.ArtifactFailedReason, "%s", err)
		return steps.Failed(meta.ArtifactFailedReason, err)
	}
	sc.tree = tree
	conditions.Delete(sc.obj, setsv1.ArtifactFailedCondition)
	return nil
}

// reconcileRender generates the inputs and renders the template for each. A generator that
// fails (a bad glob, an unreadable file) or a template that does not parse stalls the set
// before anything is applied; a template that fails for one input fails that input only
// (setInput.renderErr). It labels every object with the set's ownership labels and its input,
// defaults namespaced objects to the set's namespace, and assigns the inputs to steps.
func (r *ResourceSetReconciler) reconcileRender(ctx context.Context, sc *setScope) error {
	obj := sc.obj
	var root *os.Root
	if sc.tree != nil {
		var err error
		if root, err = os.OpenRoot(sc.tree.Dir); err != nil {
			return err
		}
		defer root.Close()
	}
	ins, err := generate.Inputs(obj.Spec.Generators, root)
	if err != nil {
		return steps.Stalled(setsv1.GenerateFailedReason, err)
	}
	tpl, err := generate.Parse(obj.Spec.Template)
	if err != nil {
		return steps.Stalled(setsv1.RenderFailedReason, err)
	}
	cluster, err := r.Identities.For(ctx, identity.Target{Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName})
	if err != nil {
		return err
	}
	sc.cluster = cluster
	prev := map[string]*setsv1.InputStatus{}
	for i := range obj.Status.Inputs {
		prev[obj.Status.Inputs[i].Name] = &obj.Status.Inputs[i]
	}
	owner := map[string]string{} // object ID → the input that rendered it first
	total := 0
	rev := sha256.New()
	for _, in := range ins {
		si := &setInput{name: in.Name, prev: prev[in.Name]}
		sc.inputs = append(sc.inputs, si)
		objects, err := tpl.Render(in)
		if err == nil {
			err = r.prepare(sc, si, objects, owner)
		}
		if err != nil {
			si.renderErr = err
			continue
		}
		total += len(objects)
		fmt.Fprintf(rev, "%s=%s\n", si.name, si.digest)
	}
	if maxObjects := r.maxObjects(); total > maxObjects {
		return steps.Stalled(setsv1.TooManyObjectsReason, fmt.Errorf("the inputs render %d objects, more than this controller's limit of %d; nothing was applied", total, maxObjects))
	}
	markRenderFailures(sc)
	sc.steps, err = assignSteps(obj.Spec.Strategy, sc.inputs)
	if err != nil {
		return steps.Stalled(meta.InvalidSpecReason, err)
	}
	sc.revision = fmt.Sprintf("sha256:%x", rev.Sum(nil))[:19]
	if sc.artifact != nil {
		sc.revision = sc.artifact.Revision + "/" + sc.revision
	}
	obj.Status.LastAttemptedRevision = sc.revision
	return nil
}

func (r *ResourceSetReconciler) maxObjects() int {
	if r.MaxObjects > 0 {
		return r.MaxObjects
	}
	return DefaultMaxObjects
}

// prepare labels, namespaces and identifies the objects of one input, and computes its digest.
// An object another input rendered first is an error of this input.
func (r *ResourceSetReconciler) prepare(sc *setScope, si *setInput, objects []*unstructured.Unstructured, owner map[string]string) error {
	obj := sc.obj
	err := generate.Label(objects, obj, si.name, func(gvk schema.GroupVersionKind) (bool, error) {
		mapping, err := sc.cluster.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return false, err
		}
		return mapping.Scope.Name() == apimeta.RESTScopeNameNamespace, nil
	})
	if err != nil {
		return err
	}
	h := sha256.New()
	for _, o := range objects {
		id := object.UnstructuredToObjMetadata(o).String()
		if other, ok := owner[id]; ok {
			return fmt.Errorf("input %s: %s is also rendered by input %s", si.name, describeObject(o), other)
		}
		owner[id] = si.name
		si.ids = append(si.ids, id)
		b, err := json.Marshal(o.Object)
		if err != nil {
			return err
		}
		h.Write(b)
	}
	slices.Sort(si.ids)
	si.objects = objects
	si.digest = fmt.Sprintf("sha256:%x", h.Sum(nil))
	return nil
}

// maxRenderErrorLen bounds one input's error in status.
const maxRenderErrorLen = 512

// renderFailures describes the inputs that did not render, nil when every one did.
func renderFailures(sc *setScope) error {
	var failed []string
	for _, in := range sc.inputs {
		if in.renderErr != nil {
			failed = append(failed, in.renderErr.Error())
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d inputs did not render and keep their previous objects: %s", len(failed), len(sc.inputs), nameSome(failed))
}

// markRenderFailures sets RenderFailed, naming the inputs, or clears it: at once, so that it
// shows while the rollout of the other inputs is in progress or stopped.
func markRenderFailures(sc *setScope) {
	if err := renderFailures(sc); err != nil {
		conditions.MarkTrue(sc.obj, setsv1.RenderFailedCondition, setsv1.RenderFailedReason, "%s", err)
		return
	}
	conditions.Delete(sc.obj, setsv1.RenderFailedCondition)
}

// reconcileRenderFailures, the last step, fails the run when inputs did not render, naming
// them: their objects keep their previous spec while every other input was rolled out.
func (r *ResourceSetReconciler) reconcileRenderFailures(_ context.Context, sc *setScope) error {
	if err := renderFailures(sc); err != nil {
		return steps.Stalled(setsv1.RenderFailedReason, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
