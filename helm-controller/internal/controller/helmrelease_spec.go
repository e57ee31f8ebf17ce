package controller

import (
	"context"
	"errors"
	"fmt"

	"helm.sh/helm/v3/pkg/chartutil"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/dependency"
	"weir.dev/pkg/steps"
)

// maxReleaseNameLength is Helm's limit on release names.
const maxReleaseNameLength = 53

// reconcileSpec checks what the API schema cannot: the release name, which defaults to
// `<targetNamespace>-<name>` and may then be too long for Helm, and, when the controller
// forbids them, references to other namespaces. It sets no condition; failures stall.
func (r *HelmReleaseReconciler) reconcileSpec(_ context.Context, sc *hrScope) error {
	obj := sc.obj
	name := obj.GetReleaseName()
	if len(name) > maxReleaseNameLength {
		field := "spec.releaseName"
		if obj.Spec.ReleaseName == "" {
			field = "the release name (spec.targetNamespace-metadata.name)"
		}
		return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("%s '%s' is %d characters long; Helm allows at most %d: set a shorter spec.releaseName",
			field, name, len(name), maxReleaseNameLength))
	}
	if err := chartutil.ValidateReleaseName(name); err != nil {
		return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("release name '%s' is invalid: %w", name, err))
	}
	sc.releaseName = name

	if r.NoCrossNamespaceRefs {
		var ns, what string
		switch {
		case obj.Spec.Chart != nil:
			ns, what = obj.Spec.Chart.Spec.SourceRef.Namespace, "spec.chart.spec.sourceRef"
		case obj.Spec.ChartRef != nil:
			ns, what = obj.Spec.ChartRef.Namespace, "spec.chartRef"
		}
		if ns != "" && ns != obj.Namespace {
			return steps.Stalled(meta.AccessDeniedReason, fmt.Errorf("%s: namespace '%s' is another namespace than the HelmRelease's, which this controller does not allow", what, ns))
		}
	}
	return nil
}

// dependencyRefs returns spec.dependsOn with kinds and namespaces defaulted.
func dependencyRefs(obj *helmv1.HelmRelease) []dependency.Ref {
	refs := make([]dependency.Ref, 0, len(obj.Spec.DependsOn))
	for _, d := range obj.Spec.DependsOn {
		kind := d.Kind
		if kind == "" {
			kind = helmv1.HelmReleaseKind
		}
		refs = append(refs, dependency.Ref{Kind: kind, Namespace: refNamespace(d.Namespace, obj.Namespace), Name: d.Name, ReadyExpr: d.ReadyExpr})
	}
	return refs
}

// reconcileDependencies waits until every HelmRelease and Kustomization in spec.dependsOn is
// ready (Ready at its latest generation, or its readyExpr true), naming the first that is not,
// its state and since when, and refuses dependency cycles (across kinds), readyExprs that do
// not compile and, when the controller forbids them, dependencies in other namespaces.
// It sets no condition: Ready says what is awaited.
func (r *HelmReleaseReconciler) reconcileDependencies(ctx context.Context, sc *hrScope) error {
	refs := dependencyRefs(sc.obj)
	if len(refs) == 0 {
		return nil
	}
	if r.NoCrossNamespaceRefs {
		for _, d := range refs {
			if d.Namespace != sc.obj.Namespace {
				return steps.Stalled(meta.AccessDeniedReason, fmt.Errorf("spec.dependsOn: %s is in another namespace, which this controller does not allow", d))
			}
		}
	}
	self := dependency.Ref{Kind: helmv1.HelmReleaseKind, Namespace: sc.obj.Namespace, Name: sc.obj.Name}
	err := r.dependencies.CheckFor(ctx, sc.obj, self, refs)
	var (
		cycle   *dependency.CycleError
		invalid *dependency.InvalidExprError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &invalid):
		return steps.Stalled(meta.InvalidSpecReason, err)
	case errors.As(err, &cycle):
		return steps.Stalled(meta.DependencyNotReadyReason, fmt.Errorf("spec.dependsOn: %w", err))
	case dependency.IsNotReady(err):
		return steps.Waiting(meta.DependencyNotReadyReason, r.DependencyRequeue, err)
	default:
		return err
	}
}
