package controller

import (
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// helm-controller watches and reads Kustomizations only as dependencies of HelmReleases: their
// readiness (generation, Ready and Reconciling, the applied and attempted revisions) and their
// own spec.dependsOn, for the cycle walk. Everything else a Kustomization carries (its
// inventory and history, which grow with what it applies; its managedFields; the rest of its
// spec) is dropped before the cache keeps it, so that a fleet of Kustomizations being applied
// costs helm-controller little memory and CPU. A readyExpr, which may read any field, judges
// the dependency as read from the API server instead (dependency.Checker.ExprReader).

// CacheOptions are helm-controller's cache options for the kinds it watches only as
// dependencies; main merges them with configwatch's.
func CacheOptions() map[client.Object]cache.ByObject {
	return map[client.Object]cache.ByObject{
		&kustomizev1.Kustomization{}: {Transform: trimKustomization},
	}
}

// trimKustomization keeps of a Kustomization what a dependency check reads (see above).
func trimKustomization(obj any) (any, error) {
	k, ok := obj.(*kustomizev1.Kustomization)
	if !ok {
		return obj, nil
	}
	t := &kustomizev1.Kustomization{TypeMeta: k.TypeMeta, ObjectMeta: k.ObjectMeta}
	t.ManagedFields = nil
	t.Spec.DependsOn = k.Spec.DependsOn
	t.Status.ObservedGeneration = k.Status.ObservedGeneration
	t.Status.Conditions = k.Status.Conditions
	t.Status.LastAppliedRevision = k.Status.LastAppliedRevision
	t.Status.LastAttemptedRevision = k.Status.LastAttemptedRevision
	return t, nil
}
