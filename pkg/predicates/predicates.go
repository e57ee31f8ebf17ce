package predicates

import (
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"weir.dev/api/meta"
)

// ReconcileRequested passes updates that set a new value of the reconcile-request annotation
// (reconcile.weir.dev/requestedAt), so `weir reconcile` and Receivers trigger at once.
type ReconcileRequested struct {
	predicate.Funcs
}

// Update passes the event when the annotation's value changed to a non-empty one.
func (ReconcileRequested) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	newValue, ok := meta.ReconcileAnnotationValue(e.ObjectNew.GetAnnotations())
	if !ok || newValue == "" {
		return false
	}
	oldValue, _ := meta.ReconcileAnnotationValue(e.ObjectOld.GetAnnotations())
	return newValue != oldValue
}

// Default is the filter for a kind's own objects: creation, deletion, a new generation (spec
// change, or deletion timestamp set) or a reconcile request. Status-only updates do not pass.
func Default() predicate.Predicate {
	return predicate.Or(predicate.GenerationChangedPredicate{}, ReconcileRequested{})
}

// artifactGetter is a source kind with an artifact.
type artifactGetter interface {
	GetArtifact() *meta.Artifact
}

// ArtifactChanged passes updates of a source whose artifact revision or digest changed, and the
// creation of one that already has an artifact; consumers use it to react to new revisions at
// once instead of at their next interval.
type ArtifactChanged struct {
	predicate.Funcs
}

// Create passes a source that already has an artifact (e.g. when a cache starts).
func (ArtifactChanged) Create(e event.CreateEvent) bool {
	s, ok := e.Object.(artifactGetter)
	return ok && s.GetArtifact() != nil
}

// Update passes a change of the artifact's revision or digest.
func (ArtifactChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(artifactGetter)
	n, ok2 := e.ObjectNew.(artifactGetter)
	if !ok1 || !ok2 || n.GetArtifact() == nil {
		return false
	}
	oa, na := o.GetArtifact(), n.GetArtifact()
	return oa == nil || oa.Revision != na.Revision || oa.Digest != na.Digest
}

// Delete passes nothing: a consumer notices a missing source when it next reconciles.
func (ArtifactChanged) Delete(event.DeleteEvent) bool { return false }

// Generic passes nothing.
func (ArtifactChanged) Generic(event.GenericEvent) bool { return false }
