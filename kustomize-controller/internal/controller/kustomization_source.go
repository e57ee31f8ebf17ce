package controller

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/gate"
	"weir.dev/pkg/kustomize/build"
	"weir.dev/pkg/steps"
)

// ksScope is what the Kustomization steps share. Each field names the step that fills it.
type ksScope struct {
	obj     *kustomizev1.Kustomization
	started time.Time

	artifact *meta.Artifact // reconcileSource: the source's artifact

	dir        string         // reconcileArtifact: the extracted artifact, read-only when shared
	tree       *artifact.Tree // reconcileArtifact: the shared extraction dir belongs to, released by cleanup
	privateDir bool           // reconcileArtifact: dir is this run's own copy, removed by cleanup

	objects []*unstructured.Unstructured // reconcileBuild
	trace   *build.Trace                 // reconcileBuild: what the build read
	origins build.Origins                // reconcileBuild: the file and line of each object
	skipped bool                         // reconcileBuild: nothing changed, the apply is skipped
	plan    *wavePlan                    // reconcileWaves: the waves and hooks (the hooks leave objects)
	held    *gate.Hold                   // reconcileGate: why nothing is applied (approval, sync window)
	digest  string                       // setDigest, once the objects carry their ownership labels

	manager   *ssa.ResourceManager         // reconcileApply
	observed  *observingClient             // reconcileApply: what the apply read and wrote
	changeSet *ssa.ChangeSet               // reconcileApply
	inventory *meta.ResourceInventory      // reconcileApply: the new inventory, before pruning
	stale     []*unstructured.Unstructured // reconcileApply: in the old inventory, no longer built
	pruned    *ssa.ChangeSet               // reconcilePrune
	progress  progress                     // reconcileApply, afterFailure: the wave or hook shown in Reconciling
}

// cleanup gives back the shared extraction or removes the run's own.
func (sc *ksScope) cleanup() {
	if sc.tree != nil {
		sc.tree.Release()
	}
	if sc.privateDir {
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
	case sourcev1.ExternalArtifactKind:
		src = &sourcev1.ExternalArtifact{}
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

// reconcileArtifact makes the source artifact available as a directory: the extraction shared
// by every Kustomization of that revision, or, when the build decrypts (which writes decrypted
// files into the tree), a copy of the run's own. A failure (server down, slow or dropping the
// connection, digest mismatch) sets ArtifactFailed and is retried with backoff: it never counts
// as an empty desired state, and a body that does not match the digest is never extracted.
func (r *KustomizationReconciler) reconcileArtifact(ctx context.Context, sc *ksScope) error {
	fetchCtx, cancel := context.WithTimeout(ctx, sc.obj.GetTimeout())
	defer cancel()
	var err error
	if sc.obj.Spec.Decryption != nil {
		err = r.fetchPrivate(fetchCtx, sc)
	} else {
		sc.tree, err = r.Artifacts.Get(fetchCtx, sc.artifact.URL, sc.artifact.Digest)
		if err == nil {
			sc.dir = sc.tree.Dir
		}
	}
	if err != nil {
		if fetchCtx.Err() != nil && ctx.Err() == nil {
			// The download's own error may be only the context's: say which limit it hit.
			err = fmt.Errorf("no complete answer from %s within spec.timeout (%s): %w", artifact.Host(sc.artifact.URL), sc.obj.GetTimeout(), err)
		}
		err = fmt.Errorf("fetching the artifact of revision %s: %w", sc.artifact.Revision, err)
		conditions.MarkTrue(sc.obj, kustomizev1.ArtifactFailedCondition, meta.ArtifactFailedReason, "%s", err)
		return steps.Failed(meta.ArtifactFailedReason, err)
	}
	conditions.Delete(sc.obj, kustomizev1.ArtifactFailedCondition)
	return nil
}

// fetchPrivate downloads and extracts the artifact into a directory of the run's own.
func (r *KustomizationReconciler) fetchPrivate(ctx context.Context, sc *ksScope) error {
	dir, err := os.MkdirTemp("", "kustomization-")
	if err != nil {
		return err
	}
	sc.dir, sc.privateDir = dir, true
	return r.Fetcher.Fetch(ctx, sc.artifact.URL, sc.artifact.Digest, dir)
}

// newArtifactCache returns an artifact cache in a new temporary directory (named from
// prefix) that is removed when mgr stops.
func newArtifactCache(mgr ctrl.Manager, fetcher *artifact.Fetcher, prefix string) (*artifact.Cache, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	err = mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return os.RemoveAll(dir)
	}))
	return &artifact.Cache{Fetcher: fetcher, Dir: dir, Check: build.Guard}, err
}
