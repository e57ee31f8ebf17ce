package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/configwatch"
	"weir.dev/pkg/predicates"
)

// configRefs are the ConfigMaps and Secrets a Kustomization reads, as configwatch keys: its
// spec.postBuild.substituteFrom and spec.decryption.secretRef, all in its namespace. A change
// to one labelled reconcile.weir.dev/watch: Enabled reconciles the Kustomization at once.
func configRefs(o client.Object) []string {
	ks := o.(*kustomizev1.Kustomization)
	var keys []string
	if pb := ks.Spec.PostBuild; pb != nil {
		for _, ref := range pb.SubstituteFrom {
			keys = append(keys, configwatch.Key(ref.Kind, ks.Namespace, ref.Name))
		}
	}
	if d := ks.Spec.Decryption; d != nil && d.SecretRef != nil {
		keys = append(keys, configwatch.Key(configwatch.SecretKind, ks.Namespace, d.SecretRef.Name))
	}
	return keys
}

// configUsers returns the Kustomizations that read the ConfigMap or Secret key.
func (r *KustomizationReconciler) configUsers(ctx context.Context, key string) []reconcile.Request {
	return predicates.IndexRequests[kustomizev1.KustomizationList](ctx, r.Client, configwatch.IndexField, key, "")
}
