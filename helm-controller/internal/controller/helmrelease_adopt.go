package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	helmrelease "helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/steps"
)

// neverAttempted reports whether obj has not attempted an install or upgrade yet: a new
// HelmRelease, e.g. one migrated from Flux, or one re-created after its release was kept.
func neverAttempted(obj *helmv1.HelmRelease) bool {
	st := obj.Status
	return st.LastAttemptedGeneration == 0 && st.LastAttemptedRevision == "" && len(st.History) == 0
}

// adoptRelease takes over cur, the newest revision of a release that a HelmRelease which never
// attempted a release found deployed with its desired chart name, version and values (the
// release Flux's helm-controller, helm, or a HelmRelease deleted with its release kept, made).
// Upgrading it would change nothing but add a revision and run the chart's hooks again; so
// the record is only labelled as obj's (release.Runner.Adopt), unless it already is. Flux
// stores no owner labels on its records; a record labelled as another HelmRelease's never
// gets here (Observe reports it Unowned). It sets Released (True, reason Adopted) and records
// a Normal event; a failure to label is returned, to be retried.
//
// What is compared is what Flux compares too: the chart and the values. A post-renderer or
// install option changed during the migration takes effect with the next upgrade, or at once
// with a reconcile.weir.dev/forceAt request.
func (r *HelmReleaseReconciler) adoptRelease(ctx context.Context, sc *hrScope, runner *release.Runner, cur *helmrelease.Release, owner map[string]string) error {
	obj := sc.obj
	if !release.Owned(cur, owner) {
		if err := runner.Adopt(cur, owner); err != nil {
			return steps.Failed(helmv1.AdoptFailedReason, fmt.Errorf("adopting release %s: %w", releaseRef(runner), err))
		}
	}
	r.refreshHistory(ctx, obj, runner, sc, false)
	obj.Status.ObservedPostRenderersDigest = postRenderersDigest(obj)
	conditions.MarkTrue(obj, helmv1.ReleasedCondition, helmv1.AdoptedReason,
		"Helm release %s.v%d with chart %s adopted: its chart and values are the desired ones, no upgrade was needed",
		releaseRef(runner), cur.Version, sc.chartRef())
	r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeNormal, helmv1.AdoptedReason, "adopt",
		"%s", conditions.GetMessage(obj, helmv1.ReleasedCondition))
	return nil
}
