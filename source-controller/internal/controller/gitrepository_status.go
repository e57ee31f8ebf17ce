package controller

import (
	"fmt"
	"slices"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
)

// gitRepositoryNegative are GitRepository's abnormal-true conditions; a success clears them.
var gitRepositoryNegative = []string{
	sourcev1.FetchFailedCondition,
	sourcev1.IncludeUnavailableCondition,
	sourcev1.StorageOperationFailedCondition,
}

// gitRepositoryOwnedConditions are the conditions the controller alone writes.
var gitRepositoryOwnedConditions = append([]string{
	meta.ReadyCondition, meta.ReconcilingCondition, meta.StalledCondition,
	sourcev1.ArtifactInStorageCondition, sourcev1.SourceVerifiedCondition,
}, gitRepositoryNegative...)

// summarizeGitRepository sets Ready, Reconciling and Stalled for the outcome of a run.
func summarizeGitRepository(sc *gitScope, o steps.Outcome) {
	obj := sc.obj
	msg := "no artifact"
	if a := obj.Status.Artifact; a != nil {
		msg = fmt.Sprintf("stored artifact for revision '%s'", a.Revision)
	}
	steps.Summary{Negative: gitRepositoryNegative, SuccessMessage: msg}.Apply(obj, o)
}

// markSuspended leaves the conditions as they were but for Reconciling: nothing is in progress.
func markSuspended(obj conditions.Setter) {
	conditions.Delete(obj, meta.ReconcilingCondition)
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

// revisionMetadata is the event metadata for obj: its artifact's revision, if any.
func revisionMetadata(obj *sourcev1.GitRepository) map[string]string {
	if a := obj.Status.Artifact; a != nil {
		return map[string]string{meta.RevisionEventKey: a.Revision}
	}
	return nil
}

// gitTimeout is spec.timeout, 60s when unset.
func gitTimeout(obj *sourcev1.GitRepository) time.Duration {
	if t := obj.Spec.Timeout; t != nil && t.Duration > 0 {
		return t.Duration
	}
	return 60 * time.Second
}
