package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	"k8s.io/apimachinery/pkg/runtime/schema"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/dependency"
	"weir.dev/pkg/steps"
)

// dependencyKinds are the kinds a Kustomization may depend on.
var dependencyKinds = map[string]schema.GroupVersion{
	kustomizev1.KustomizationKind: kustomizev1.GroupVersion,
	helmv1.HelmReleaseKind:        helmv1.GroupVersion,
}

// dependencyRefs returns spec.dependsOn with kinds (Kustomization) and namespaces (the
// Kustomization's) defaulted.
func dependencyRefs(obj *kustomizev1.Kustomization) []dependency.Ref {
	refs := make([]dependency.Ref, 0, len(obj.Spec.DependsOn))
	for _, d := range obj.Spec.DependsOn {
		kind := d.Kind
		if kind == "" {
			kind = kustomizev1.KustomizationKind
		}
		refs = append(refs, dependency.Ref{Kind: kind, Namespace: refNamespace(d.Namespace, obj.Namespace), Name: d.Name, ReadyExpr: d.ReadyExpr})
	}
	return refs
}

// reconcileDependencies waits until every Kustomization and HelmRelease in spec.dependsOn is
// ready (Ready at its latest generation, or its readyExpr true), naming the first that is not,
// its state and since when, and refuses dependency cycles (across kinds) and readyExprs that do
// not compile. It sets DependencyNotReady while waiting.
func (r *KustomizationReconciler) reconcileDependencies(ctx context.Context, sc *ksScope) error {
	obj := sc.obj
	refs := dependencyRefs(obj)
	if len(refs) == 0 {
		conditions.Delete(obj, kustomizev1.DependencyNotReadyCondition)
		return nil
	}
	for _, ref := range refs {
		if r.NoCrossNamespaceRefs && ref.Namespace != obj.Namespace {
			return steps.Stalled(meta.AccessDeniedReason, fmt.Errorf("spec.dependsOn: %s is in another namespace, which this controller does not allow", ref))
		}
	}
	self := dependency.Ref{Kind: kustomizev1.KustomizationKind, Namespace: obj.Namespace, Name: obj.Name}
	checker := dependency.Checker{Reader: r.Client, Scheme: r.Scheme(), Kinds: dependencyKinds}
	err := checker.CheckFor(ctx, obj, self, refs)
	var (
		cycle   *dependency.CycleError
		invalid *dependency.InvalidExprError
	)
	switch {
	case err == nil:
		conditions.Delete(obj, kustomizev1.DependencyNotReadyCondition)
		return nil
	case errors.As(err, &invalid):
		conditions.MarkTrue(obj, kustomizev1.DependencyNotReadyCondition, meta.InvalidSpecReason, "%s", err)
		return steps.Stalled(meta.InvalidSpecReason, err)
	case errors.As(err, &cycle):
		return steps.Stalled(meta.DependencyNotReadyReason, fmt.Errorf("spec.dependsOn: %w", err))
	case dependency.IsNotReady(err):
		conditions.MarkTrue(obj, kustomizev1.DependencyNotReadyCondition, meta.DependencyNotReadyReason, "%s", err)
		return steps.Waiting(meta.DependencyNotReadyReason, r.DependencyRequeue, err)
	default:
		return err
	}
}
