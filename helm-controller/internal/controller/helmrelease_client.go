package controller

import (
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/helm-controller/internal/release"
)

// helmGetter returns the RESTClientGetter of obj's Helm actions, acting as cfg's identity with
// the default namespace. With spec.persistentClient unset or true, it is the identity's shared
// Getter: its discovery and REST mapper are reused by every action of this reconcile (and of
// other releases with the same identity). With false, it is a FreshGetter, which discovers the
// API anew each time Helm builds objects, so that a hook sees the CRDs the chart's templates
// created earlier in the same action.
func (r *HelmReleaseReconciler) helmGetter(obj *helmv1.HelmRelease, cfg *rest.Config, namespace string) (genericclioptions.RESTClientGetter, error) {
	if !obj.UsePersistentClient() {
		return release.NewFreshGetter(cfg, namespace), nil
	}
	return r.getters.For(cfg, namespace)
}
