package controller

import (
	"errors"

	"github.com/fluxcd/pkg/runtime/events"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/storage"
)

// storedArtifactIntact reports whether a is in storage with the bytes its digest records: the
// condition for reusing it rather than building it again. A file that is there but differs is
// announced with a warning event naming it, so the rebuild that follows is explained; until
// it is rewritten the artifact server refuses it.
func storedArtifactIntact(st *storage.Storage, rec events.Recorder, obj client.Object, a meta.Artifact) bool {
	err := st.Verify(a)
	if errors.Is(err, storage.ErrDigestMismatch) {
		rec.AnnotatedEventf(obj, nil, map[string]string{meta.RevisionEventKey: a.Revision}, corev1.EventTypeWarning,
			sourcev1.ArtifactDigestMismatchReason, steps.ActionReconcile, "%s; storing it again", err)
	}
	return err == nil
}
