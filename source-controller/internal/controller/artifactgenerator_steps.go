package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/runtime/conditions"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/steps"
)

// artifactGeneratorNegative are ArtifactGenerator's abnormal-true conditions.
var artifactGeneratorNegative = []string{
	sourcev1.SourceUnavailableCondition,
	sourcev1.BuildFailedCondition,
	sourcev1.StorageOperationFailedCondition,
}

// artifactGeneratorConditions are the conditions the controller alone writes on the kind.
var artifactGeneratorConditions = append([]string{meta.ReadyCondition, meta.ReconcilingCondition, meta.StalledCondition},
	artifactGeneratorNegative...)

// Metadata keys of a generated artifact.
const (
	// originRevisionKey is the revision of spec.artifacts[].originRevision's source that the
	// content was generated from.
	originRevisionKey = "originRevision"
	// contentHashKey is the sha256 of the artifact's files (contentHash), which decides
	// whether a rebuilt artifact is new.
	contentHashKey = "contentHash"
)

// validateSpec refuses an alias that spec.sources does not define, naming the artifact and the
// field. It sets no condition.
func (r *ArtifactGeneratorReconciler) validateSpec(_ context.Context, sc *agScope) error {
	aliases := map[string]bool{}
	for _, s := range sc.obj.Spec.Sources {
		aliases[s.Alias] = true
	}
	for _, out := range sc.obj.Spec.Artifacts {
		check := func(field, ref string) error {
			if alias := aliasOf(ref); ref != "" && !aliases[alias] {
				return steps.Stalled(sourcev1.UnknownAliasReason, fmt.Errorf("artifact '%s': %s '%s': alias '@%s' is not in spec.sources", out.Name, field, ref, alias))
			}
			return nil
		}
		if err := check("revision", out.Revision); err != nil {
			return err
		}
		if err := check("originRevision", out.OriginRevision); err != nil {
			return err
		}
		for i, op := range out.Copy {
			if err := check(fmt.Sprintf("copy[%d].from", i), op.From); err != nil {
				return err
			}
		}
	}
	return nil
}

// aliasOf returns the alias of `@alias` or `@alias/...`.
func aliasOf(ref string) string {
	alias, _, _ := strings.Cut(strings.TrimPrefix(ref, "@"), "/")
	return alias
}

// reconcileSources reads every source and waits, naming it and the artifacts that read it,
// for one that is missing, not Ready or without an artifact. It sets SourceUnavailable.
func (r *ArtifactGeneratorReconciler) reconcileSources(ctx context.Context, sc *agScope) error {
	obj := sc.obj
	sc.sources = map[string]*generatorSource{}
	for _, ref := range obj.Spec.Sources {
		src, err := newSourceObject(ref.Kind)
		if err != nil {
			return steps.Stalled(meta.InvalidSpecReason, err)
		}
		name := fmt.Sprintf("%s '%s/%s' (@%s)", ref.Kind, obj.Namespace, ref.Name, ref.Alias)
		why := ""
		if err := r.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: ref.Name}, src); err != nil {
			if !apierrors.IsNotFound(err) {
				return err
			}
			why = "not found"
		} else if w := sourceNotReady(src); w != "" {
			why = "not ready: " + w
		}
		if why != "" {
			err := fmt.Errorf("source %s is %s; waiting to generate %s", name, why, strings.Join(readersOf(obj, ref.Alias), ", "))
			conditions.MarkTrue(obj, sourcev1.SourceUnavailableCondition, sourcev1.SourceNotReadyReason, "%s", err)
			return steps.Waiting(sourcev1.SourceNotReadyReason, r.DependencyRequeue, err)
		}
		sc.sources[ref.Alias] = &generatorSource{ref: ref, artifact: src.GetArtifact().DeepCopy()}
	}
	conditions.Delete(obj, sourcev1.SourceUnavailableCondition)
	return nil
}

// generatorSourceObject is a source object as the generator reads it.
type generatorSourceObject interface {
	client.Object
	GetArtifact() *meta.Artifact
	GetConditions() []metav1.Condition
}

// newSourceObject returns an empty object of a source kind the generator reads.
func newSourceObject(kind string) (generatorSourceObject, error) {
	switch kind {
	case sourcev1.GitRepositoryKind:
		return &sourcev1.GitRepository{}, nil
	case sourcev1.OCIRepositoryKind:
		return &sourcev1.OCIRepository{}, nil
	case sourcev1.HelmChartKind:
		return &sourcev1.HelmChart{}, nil
	case sourcev1.ExternalArtifactKind:
		return &sourcev1.ExternalArtifact{}, nil
	}
	return nil, fmt.Errorf("spec.sources: kind %q is not a source kind", kind)
}

// sourceNotReady says why src has no artifact to read for its current generation, or "".
func sourceNotReady(src generatorSourceObject) string {
	ready := conditions.Get(src, meta.ReadyCondition)
	switch {
	case ready == nil:
		return "it has not been reconciled yet"
	case ready.Status != metav1.ConditionTrue:
		return ready.Message
	case src.GetArtifact() == nil:
		return "it has no artifact yet"
	}
	return ""
}

// readersOf names the artifacts of obj whose copy operations read alias.
func readersOf(obj *sourcev1.ArtifactGenerator, alias string) []string {
	var names []string
	for _, out := range obj.Spec.Artifacts {
		for _, op := range out.Copy {
			if aliasOf(op.From) == alias {
				names = append(names, "'"+out.Name+"'")
				break
			}
		}
	}
	if len(names) == 0 {
		return []string{"the artifacts"}
	}
	return names
}

// reconcileExtract extracts every source's artifact from storage, checked against its digest,
// into a fresh directory of the run's own. It sets StorageOperationFailed.
func (r *ArtifactGeneratorReconciler) reconcileExtract(_ context.Context, sc *agScope) error {
	tmp, err := os.MkdirTemp("", "artifactgenerator-")
	if err != nil {
		return storageFailed(sc.obj, err)
	}
	sc.tmp = tmp
	sc.trees = map[string]*os.Root{}
	for alias, s := range sc.sources {
		dir := filepath.Join(tmp, "src-"+alias)
		if err := os.Mkdir(dir, artifact.DirMode); err != nil {
			return storageFailed(sc.obj, err)
		}
		f, err := r.Storage.OpenVerified(*s.artifact)
		if err != nil {
			return storageFailed(sc.obj, fmt.Errorf("reading the artifact of %s '%s' (@%s): %w", s.ref.Kind, s.ref.Name, alias, err))
		}
		err = artifact.Extract(f, dir, artifact.Limits{})
		f.Close()
		if err != nil {
			return storageFailed(sc.obj, fmt.Errorf("extracting the artifact of %s '%s' (@%s): %w", s.ref.Kind, s.ref.Name, alias, err))
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			return storageFailed(sc.obj, err)
		}
		sc.trees[alias] = root
	}
	return nil
}

// reconcileArtifacts builds every artifact of spec.artifacts and publishes each in its
// ExternalArtifact; an artifact whose content did not change leaves its ExternalArtifact's
// artifact as it was. An artifact that cannot be built keeps its previous artifact, its
// ExternalArtifact turns Ready=False with the reason, and the others are still published. It
// sets BuildFailed (a copy operation failed) and StorageOperationFailed, and records the
// inventory.
func (r *ArtifactGeneratorReconciler) reconcileArtifacts(ctx context.Context, sc *agScope) error {
	obj := sc.obj
	var (
		failures []string
		first    error
	)
	fail := func(err error) {
		failures = append(failures, err.Error())
		if first == nil {
			first = err
		}
	}
	inventory := make([]sourcev1.ExternalArtifactReference, 0, len(obj.Spec.Artifacts))
	for i, out := range obj.Spec.Artifacts {
		a, err := r.generate(ctx, sc, i, out)
		if err != nil {
			var ce *copyError
			if errors.As(err, &ce) {
				err = steps.Stalled(ce.reason, err)
			}
			fail(err)
			if perr := r.publishFailure(ctx, obj, out.Name, err); perr != nil {
				fail(perr)
			}
			if prev := previousEntry(obj, out.Name); prev != nil {
				inventory = append(inventory, *prev)
			}
			continue
		}
		inventory = append(inventory, sourcev1.ExternalArtifactReference{Name: out.Name, Revision: a.Revision, Digest: a.Digest})
	}
	obj.Status.Inventory = inventory
	if first == nil {
		conditions.Delete(obj, sourcev1.BuildFailedCondition)
		conditions.Delete(obj, sourcev1.StorageOperationFailedCondition)
		return nil
	}
	msg := strings.Join(failures, "; ")
	var stalled *steps.StalledError
	if errors.As(first, &stalled) {
		conditions.MarkTrue(obj, sourcev1.BuildFailedCondition, stalled.Reason, "%s", msg)
		return steps.Stalled(stalled.Reason, errors.New(msg))
	}
	return steps.Failed(sourcev1.StorageOperationFailedReason, errors.New(msg))
}

// previousEntry returns name's entry in the inventory, or nil.
func previousEntry(obj *sourcev1.ArtifactGenerator, name string) *sourcev1.ExternalArtifactReference {
	for i := range obj.Status.Inventory {
		if obj.Status.Inventory[i].Name == name {
			return &obj.Status.Inventory[i]
		}
	}
	return nil
}

// generate builds artifact i into a directory of its own, and stores and publishes it unless
// its ExternalArtifact already has the same content.
func (r *ArtifactGeneratorReconciler) generate(ctx context.Context, sc *agScope, i int, out sourcev1.OutputArtifact) (*meta.Artifact, error) {
	obj := sc.obj
	ea, err := r.ownedExternalArtifact(ctx, obj, out.Name)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(sc.tmp, fmt.Sprintf("out-%d", i))
	if err := os.Mkdir(dir, artifact.DirMode); err != nil {
		return nil, err
	}
	dst, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	if err := buildArtifact(out, sc.trees, dst); err != nil {
		return nil, err
	}
	hash, err := contentHash(dst)
	if err != nil {
		return nil, err
	}
	revision := "latest@sha256:" + hash
	if out.Revision != "" {
		revision = sc.sources[aliasOf(out.Revision)].artifact.Revision
	}
	if cur := ea.Status.Artifact; cur != nil && cur.Revision == revision && cur.Metadata[contentHashKey] == hash {
		if r.Storage.Verify(*cur) == nil {
			// Same content: the ExternalArtifact keeps its artifact, so consumers stay still.
			return cur, r.publish(ctx, ea, nil)
		}
	}
	a := r.Storage.NewArtifact(sourcev1.ExternalArtifactKind, obj.Namespace, out.Name, revision, hash[:16]+".tar.gz")
	unlock := r.Storage.Lock(a)
	defer unlock()
	if err := r.Storage.Archive(&a, dir, artifact.ArchiveOptions{}); err != nil {
		conditions.MarkTrue(obj, sourcev1.StorageOperationFailedCondition, sourcev1.StorageOperationFailedReason, "%s", err)
		return nil, fmt.Errorf("artifact '%s': storing: %w", out.Name, err)
	}
	a.Metadata = map[string]string{contentHashKey: hash}
	if out.OriginRevision != "" {
		a.Metadata[originRevisionKey] = sc.sources[aliasOf(out.OriginRevision)].artifact.Revision
	}
	if err := r.publish(ctx, ea, &a); err != nil {
		return nil, err
	}
	if deleted, err := r.Storage.GarbageCollect(a); err != nil {
		log.FromContext(ctx).Error(err, "collecting old artifacts", "artifact", out.Name)
	} else if len(deleted) > 0 {
		log.FromContext(ctx).V(1).Info("collected old artifacts", "files", deleted)
	}
	r.EventRecorder.AnnotatedEventf(obj, nil, map[string]string{meta.RevisionEventKey: revision}, corev1.EventTypeNormal,
		sourcev1.NewArtifactReason, steps.ActionReconcile, "generated artifact '%s' revision '%s'", out.Name, revision)
	return &a, nil
}
