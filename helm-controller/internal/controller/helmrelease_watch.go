package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/pkg/configwatch"
	"weir.dev/pkg/predicates"
)

// configRefs are the ConfigMaps and Secrets a HelmRelease's spec.valuesFrom reads, in its
// namespace, as configwatch keys. A change to one labelled reconcile.weir.dev/watch: Enabled
// reconciles the HelmRelease at once.
func configRefs(o client.Object) []string {
	hr := o.(*helmv1.HelmRelease)
	keys := make([]string, 0, len(hr.Spec.ValuesFrom))
	for _, ref := range hr.Spec.ValuesFrom {
		keys = append(keys, configwatch.Key(ref.Kind, hr.Namespace, ref.Name))
	}
	return keys
}

// configUsers returns the HelmReleases that read the ConfigMap or Secret key.
func (r *HelmReleaseReconciler) configUsers(ctx context.Context, key string) []reconcile.Request {
	return predicates.IndexRequests[helmv1.HelmReleaseList](ctx, r.Client, configwatch.IndexField, key, "")
}
