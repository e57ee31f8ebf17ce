package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
)

// ksScope is what the Kustomization steps share. Each field names the step that fills it.
type ksScope struct {
	obj     *kustomizev1.Kustomization
	started time.Time

	artifact *meta.Artifact // reconcileSource: the source's artifact

	dir string // reconcileArtifact: the extracted artifact, removed by cleanup

	objects []*unstructured.Unstructured // reconcileBuild
	digest  string                       // setDigest, once the objects carry their ownership labels

	manager   *ssa.ResourceManager         // reconcileApply
	changeSet *ssa.ChangeSet               // reconcileApply
	inventory *meta.ResourceInventory      // reconcileApply: the new inventory, before pruning
	stale     []*unstructured.Unstructured // reconcileApply: in the old inventory, no longer built
	pruned    *ssa.ChangeSet               // reconcilePrune
}

// cleanup removes the extracted artifact.
func (sc *ksScope) cleanup() {
	if sc.dir != "" {
		_ = os.RemoveAll(sc.dir)
	}
}

// reconcileSource finds the source and its artifact. A missing source, or one without an
// artifact yet, is waited for, naming it; a cross-namespace reference is refused when the
// controller forbids them.
func (r *KustomizationReconciler) reconcileSource(ctx context.Context, sc *ksScope) error {
	ref := sc.obj.Spec.SourceRef
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
	sc.obj.Status.LastAttemptedRevision = sc.artifact.Revision
	return nil
}

// reconcileDependencies waits until every Kustomization in spec.dependsOn is Ready at its
// latest revision, naming the first that is not, and refuses dependency cycles. It sets
// DependencyNotReady while waiting.
func (r *KustomizationReconciler) reconcileDependencies(ctx context.Context, sc *ksScope) error {
	if len(sc.obj.Spec.DependsOn) == 0 {
		conditions.Delete(sc.obj, kustomizev1.DependencyNotReadyCondition)
		return nil
	}
	if cycle, err := r.findCycle(ctx, sc.obj); err != nil {
		return err
	} else if cycle != "" {
		return steps.Stalled(meta.DependencyNotReadyReason, fmt.Errorf("spec.dependsOn: dependency cycle %s", cycle))
	}
	for _, d := range sc.obj.Spec.DependsOn {
		ns := refNamespace(d.Namespace, sc.obj.Namespace)
		if r.NoCrossNamespaceRefs && ns != sc.obj.Namespace {
			return steps.Stalled(meta.AccessDeniedReason, fmt.Errorf("spec.dependsOn: Kustomization '%s/%s' is in another namespace, which this controller does not allow", ns, d.Name))
		}
		var dep kustomizev1.Kustomization
		err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: d.Name}, &dep)
		switch {
		case apierrors.IsNotFound(err):
			err = fmt.Errorf("dependency Kustomization '%s/%s' not found", ns, d.Name)
		case err != nil:
			return err
		case !readyAtLatest(&dep):
			err = fmt.Errorf("dependency Kustomization '%s/%s' is not ready", ns, d.Name)
		}
		if err != nil {
			conditions.MarkTrue(sc.obj, kustomizev1.DependencyNotReadyCondition, meta.DependencyNotReadyReason, "%s", err)
			return steps.Waiting(meta.DependencyNotReadyReason, r.DependencyRequeue, err)
		}
	}
	conditions.Delete(sc.obj, kustomizev1.DependencyNotReadyCondition)
	return nil
}

// readyAtLatest reports whether ks is Ready for its current generation and applied the
// revision it last attempted.
func readyAtLatest(ks *kustomizev1.Kustomization) bool {
	return conditions.IsReady(ks) && ks.Status.ObservedGeneration == ks.Generation &&
		ks.Status.LastAppliedRevision != "" && ks.Status.LastAppliedRevision == ks.Status.LastAttemptedRevision
}

// findCycle walks spec.dependsOn from obj and returns the cycle through obj, if any, as
// "a -> b -> a". The walk is bounded.
func (r *KustomizationReconciler) findCycle(ctx context.Context, obj *kustomizev1.Kustomization) (string, error) {
	start := obj.Namespace + "/" + obj.Name
	type node struct {
		key  string
		path []string
	}
	queue := []node{{key: start, path: []string{obj.Name}}}
	seen := map[string]bool{}
	for steps := 0; len(queue) > 0 && steps < 1000; steps++ {
		n := queue[0]
		queue = queue[1:]
		ks := obj
		if n.key != start {
			ks = &kustomizev1.Kustomization{}
			ns, name, _ := cutKey(n.key)
			if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ks); err != nil {
				if apierrors.IsNotFound(err) {
					continue
				}
				return "", err
			}
		}
		for _, d := range ks.Spec.DependsOn {
			key := refNamespace(d.Namespace, ks.Namespace) + "/" + d.Name
			path := append(append([]string{}, n.path...), d.Name)
			if key == start {
				return joinPath(path), nil
			}
			if !seen[key] {
				seen[key] = true
				queue = append(queue, node{key: key, path: path})
			}
		}
	}
	return "", nil
}

func cutKey(key string) (string, string, bool) {
	for i := range key {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return "", key, false
}

func joinPath(path []string) string {
	out := ""
	for i, p := range path {
		if i > 0 {
			out += " -> "
		}
		out += p
	}
	return out
}

// reconcileArtifact downloads and verifies the source artifact into a fresh directory. A
// failure (server down, digest mismatch) sets ArtifactFailed and is retried: it never counts as
// an empty desired state.
func (r *KustomizationReconciler) reconcileArtifact(ctx context.Context, sc *ksScope) error {
	dir, err := os.MkdirTemp("", "kustomization-")
	if err != nil {
		return err
	}
	sc.dir = dir
	fetchCtx, cancel := context.WithTimeout(ctx, sc.obj.GetTimeout())
	defer cancel()
	if err := r.Fetcher.Fetch(fetchCtx, sc.artifact.URL, sc.artifact.Digest, dir); err != nil {
		err = fmt.Errorf("fetching the artifact of revision %s: %w", sc.artifact.Revision, err)
		conditions.MarkTrue(sc.obj, kustomizev1.ArtifactFailedCondition, meta.ArtifactFailedReason, "%s", err)
		return steps.Failed(meta.ArtifactFailedReason, err)
	}
	conditions.Delete(sc.obj, kustomizev1.ArtifactFailedCondition)
	return nil
}

var errEmptyPrune = errors.New("empty prune refused")
