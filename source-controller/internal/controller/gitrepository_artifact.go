package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/runtime/conditions"
	corev1 "k8s.io/api/core/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/sourceignore"
)

// reconcileArtifact copies the included artifacts into the worktree, archives it into storage
// with the ignore rules, records the artifact and the spec it was built from, and collects old
// artifacts. It sets ArtifactInStorage, or StorageOperationFailed, and announces a new revision.
func (r *GitRepositoryReconciler) reconcileArtifact(ctx context.Context, sc *gitScope) error {
	obj := sc.obj
	for i, inc := range obj.Spec.Include {
		if err := r.copyInclude(sc.dir, inc, sc.includes[i]); err != nil {
			var pe *includePathError
			if errors.As(err, &pe) {
				conditions.MarkTrue(obj, sourcev1.IncludeUnavailableCondition, sourcev1.IncludePathInvalidReason, "%s", err)
				return steps.Failed(sourcev1.IncludePathInvalidReason, err)
			}
			return storageFailed(obj, err)
		}
	}
	matcher, err := sourceignore.New(sc.dir, obj.Spec.Ignore)
	if err != nil {
		return storageFailed(obj, fmt.Errorf("reading ignore rules: %w", err))
	}

	revision := sc.target.Revision()
	a := r.Storage.NewArtifact(sourcev1.GitRepositoryKind, obj.Namespace, obj.Name, revision, sc.target.Commit+".tar.gz")
	unlock := r.Storage.Lock(a)
	defer unlock()
	var dropped []string
	err = r.Storage.Archive(&a, sc.dir, artifact.ArchiveOptions{
		Filter: matcher.Include,
		Warn:   func(msg string) { dropped = append(dropped, msg) },
	})
	if err != nil {
		return storageFailed(obj, fmt.Errorf("archiving revision %s: %w", revision, err))
	}
	if len(dropped) > 0 {
		r.EventRecorder.AnnotatedEventf(obj, nil, map[string]string{meta.RevisionEventKey: revision}, corev1.EventTypeWarning,
			"EntriesDropped", steps.ActionReconcile, "left out of the artifact: %s", strings.Join(dropped, "; "))
	}
	if a.Metadata == nil {
		a.Metadata = map[string]string{}
	}
	a.Metadata[meta.CommitMessageEventKey] = firstLine(sc.commit.Message)

	recordArtifact(ctx, r.Storage, r.EventRecorder, obj, a, artifactRecord{
		SetStatus: func(a *meta.Artifact) {
			obj.Status.Artifact = a
			obj.Status.IncludedArtifacts = sc.includes
			obj.Status.ObservedIgnore = obj.Spec.Ignore
			obj.Status.ObservedRecurseSubmodules = obj.Spec.RecurseSubmodules
			obj.Status.ObservedInclude = obj.Spec.Include
			obj.Status.ObservedSparseCheckout = obj.Spec.SparseCheckout
			obj.Status.SourceVerificationMode = nil
			if v := obj.Spec.Verification; v != nil {
				mode := v.Mode
				obj.Status.SourceVerificationMode = &mode
			}
		},
		Message:  fmt.Sprintf("stored artifact for commit '%s'", firstLine(sc.commit.Message)),
		Metadata: map[string]string{meta.CommitMessageEventKey: firstLine(sc.commit.Message)},
	})
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	return line
}
