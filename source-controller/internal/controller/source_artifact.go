package controller

import (
	"context"
	"maps"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/events"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/storage"
)

// artifactRecord says what differs between the kinds when recordArtifact records a stored
// artifact.
type artifactRecord struct {
	// SetStatus writes the artifact into the object's status, with whatever the kind records
	// of what it was built from (status.url, the observed spec fields).
	SetStatus func(*meta.Artifact)
	// Message is the NewArtifact event's message.
	Message string
	// Metadata is added to the event's metadata beside the revision; nil for none.
	Metadata map[string]string
}

// recordArtifact is the tail of every source kind's artifact step, once a is in storage: it
// records a in obj's status through rec.SetStatus, clears StorageOperationFailed and sets
// ArtifactInStorage, collects obj's older artifacts (a failure is logged, not returned: the
// new artifact is already served), and, when a's revision or digest differs from the artifact
// recorded before, announces it as a Normal NewArtifact event with its revision in the
// metadata.
func recordArtifact(ctx context.Context, st *storage.Storage, recorder events.Recorder, obj sourceObject, a meta.Artifact, rec artifactRecord) {
	prev := obj.GetArtifact()
	changed := !prev.HasRevision(a.Revision) || !prev.HasDigest(a.Digest)
	rec.SetStatus(&a)
	conditions.Delete(obj, sourcev1.StorageOperationFailedCondition)
	conditions.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason, "stored artifact for revision '%s'", a.Revision)
	if deleted, err := st.GarbageCollect(a); err != nil {
		log.FromContext(ctx).Error(err, "collecting old artifacts")
	} else if len(deleted) > 0 {
		log.FromContext(ctx).V(1).Info("collected old artifacts", "files", deleted)
	}
	if !changed {
		return
	}
	md := map[string]string{meta.RevisionEventKey: a.Revision}
	maps.Copy(md, rec.Metadata)
	recorder.AnnotatedEventf(obj, nil, md, corev1.EventTypeNormal, sourcev1.NewArtifactReason, steps.ActionReconcile, "%s", rec.Message)
}
