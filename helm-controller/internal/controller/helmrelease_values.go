package controller

import (
	"context"
	"errors"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/helm/values"
	"weir.dev/pkg/steps"
)

// reconcileValues composes the release's values: spec.valuesFrom in order, then spec.values.
// A missing object or key is retried (it may be created next); content that is not valid YAML
// stalls until the object or the spec changes. Messages name the object and key. It sets no
// condition.
func (r *HelmReleaseReconciler) reconcileValues(ctx context.Context, sc *hrScope) error {
	v, err := values.Compose(ctx, r.APIReader, sc.obj.Namespace, sc.obj.Spec.ValuesFrom, sc.obj.Spec.Values)
	var ve *values.Error
	switch {
	case errors.As(err, &ve) && ve.Missing:
		return steps.Failed(helmv1.ValuesFailedReason, err)
	case errors.As(err, &ve):
		return steps.Stalled(helmv1.ValuesFailedReason, err)
	case err != nil:
		return steps.Failed(helmv1.ValuesFailedReason, err)
	}
	sc.values = v
	sc.configDigest = release.ValuesDigest(v)
	sc.valuesChecksum = release.ValuesChecksum(v)
	return nil
}
