package controller

import (
	"fmt"
	"slices"

	"github.com/fluxcd/pkg/runtime/conditions"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

// gitRepositoryKind is what the shared reconcile skeleton needs to know of GitRepository.
var gitRepositoryKind = &sourceKind[*sourcev1.GitRepository]{
	kind: sourcev1.GitRepositoryKind,
	negative: []string{
		sourcev1.FetchFailedCondition,
		sourcev1.IncludeUnavailableCondition,
		sourcev1.StorageOperationFailedCondition,
	},
	positive: []string{sourcev1.ArtifactInStorageCondition, sourcev1.SourceVerifiedCondition},
	ready: func(o *sourcev1.GitRepository) (string, string) {
		return meta.SucceededReason, artifactMessage(o.Status.Artifact)
	},
}

// artifactMessage is Ready's message for a source with artifact a.
func artifactMessage(a *meta.Artifact) string {
	if a == nil {
		return "no artifact"
	}
	return fmt.Sprintf("stored artifact for revision '%s'", a.Revision)
}

// artifactUpToDate reports whether the current artifact was built from revision with the
// current spec's ignore, include, sparse-checkout, submodule and verification settings, and
// from the same included artifacts.
func artifactUpToDate(obj *sourcev1.GitRepository, revision string, includes []*meta.Artifact) bool {
	st := obj.Status
	if st.Artifact == nil || st.Artifact.Revision != revision {
		return false
	}
	if !apiequality.Semantic.DeepEqual(st.ObservedIgnore, obj.Spec.Ignore) ||
		st.ObservedRecurseSubmodules != obj.Spec.RecurseSubmodules ||
		!apiequality.Semantic.DeepEqual(st.ObservedInclude, obj.Spec.Include) ||
		!slices.Equal(st.ObservedSparseCheckout, obj.Spec.SparseCheckout) {
		return false
	}
	if v := obj.Spec.Verification; v != nil {
		if st.SourceVerificationMode == nil || *st.SourceVerificationMode != v.Mode ||
			!conditions.IsTrue(obj, sourcev1.SourceVerifiedCondition) {
			return false
		}
	} else if st.SourceVerificationMode != nil {
		return false
	}
	if len(includes) != len(st.IncludedArtifacts) {
		return false
	}
	for i := range includes {
		if includes[i].Digest != st.IncludedArtifacts[i].Digest {
			return false
		}
	}
	return true
}
