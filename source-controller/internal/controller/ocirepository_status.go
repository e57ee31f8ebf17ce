package controller

import (
	"github.com/fluxcd/pkg/runtime/conditions"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

// ociRepositoryKind is what the shared reconcile skeleton needs to know of OCIRepository.
var ociRepositoryKind = &sourceKind[*sourcev1.OCIRepository]{
	kind:     sourcev1.OCIRepositoryKind,
	negative: []string{sourcev1.FetchFailedCondition, sourcev1.StorageOperationFailedCondition},
	positive: []string{sourcev1.ArtifactInStorageCondition, sourcev1.SourceVerifiedCondition},
	ready: func(o *sourcev1.OCIRepository) (string, string) {
		return meta.SucceededReason, artifactMessage(o.Status.Artifact)
	},
}

// ociArtifactUpToDate reports whether the current artifact was built from revision with the
// current spec's ignore rules and layer selector, and no verification is pending.
func ociArtifactUpToDate(obj *sourcev1.OCIRepository, revision string) bool {
	st := obj.Status
	if st.Artifact == nil || st.Artifact.Revision != revision {
		return false
	}
	if obj.Spec.Verify != nil && !conditions.IsTrue(obj, sourcev1.SourceVerifiedCondition) {
		return false
	}
	return apiequality.Semantic.DeepEqual(st.ObservedIgnore, obj.Spec.Ignore) &&
		apiequality.Semantic.DeepEqual(st.ObservedLayerSelector, obj.Spec.LayerSelector)
}
