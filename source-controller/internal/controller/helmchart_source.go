package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
)

// helmChartScope is what the HelmChart steps share. Each field names the step that fills it.
type helmChartScope struct {
	obj *sourcev1.HelmChart

	// reconcileSource: the source, and its artifact (nil for a HelmRepository of type oci).
	repo     *sourcev1.HelmRepository // when the source is a HelmRepository
	artifact *meta.Artifact

	// reconcileBuild: the packaged chart.
	data        []byte
	name        string
	version     string
	valuesFiles []string // the values files merged (found, with ignoreMissingValuesFiles)
	deps        []string // the dependencies added, name@version
}

// validateSpec checks the chart name or path, the version range and the values file paths,
// and a spec.verify this build cannot honour (see checkVerifySpec). Failures stall: only a spec
// change fixes them.
func (r *HelmChartReconciler) validateSpec(_ context.Context, sc *helmChartScope) error {
	if err := validateHelmChartSpec(sc.obj); err != nil {
		return steps.Stalled(meta.InvalidSpecReason, err)
	}
	if err := checkVerifySpec(sc.obj.Spec.Verify); err != nil {
		conditions.MarkFalse(sc.obj, sourcev1.SourceVerifiedCondition, sourcev1.VerificationFailedReason, "%s", err)
		return steps.Stalled(sourcev1.VerificationFailedReason, err)
	}
	if sc.obj.Spec.Verify == nil {
		conditions.Delete(sc.obj, sourcev1.SourceVerifiedCondition)
	}
	return nil
}

// reconcileSource gets the source in the HelmChart's namespace and its artifact. A source that
// does not exist yet, or has no artifact yet, makes the chart wait (DependencyNotReady).
func (r *HelmChartReconciler) reconcileSource(ctx context.Context, sc *helmChartScope) error {
	ref := sc.obj.Spec.SourceRef
	key := client.ObjectKey{Namespace: sc.obj.Namespace, Name: ref.Name}
	var src sourceObject
	switch ref.Kind {
	case sourcev1.HelmRepositoryKind:
		sc.repo = &sourcev1.HelmRepository{}
		src = sc.repo
	case sourcev1.GitRepositoryKind:
		src = &sourcev1.GitRepository{}
	case sourcev1.OCIRepositoryKind:
		src = &sourcev1.OCIRepository{}
	default:
		return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("spec.sourceRef.kind '%s' is not supported", ref.Kind))
	}
	wait := func(format string, args ...any) error {
		err := fmt.Errorf("%s '%s' %s", ref.Kind, ref.Name, fmt.Sprintf(format, args...))
		return steps.Waiting(meta.DependencyNotReadyReason, r.DependencyRequeue, err)
	}
	if err := r.Get(ctx, key, src); err != nil {
		if apierrors.IsNotFound(err) {
			return wait("does not exist")
		}
		return err
	}
	if sc.repo != nil && sc.repo.Spec.Type == sourcev1.HelmRepositoryTypeOCI {
		return nil
	}
	if sc.obj.Spec.Verify != nil {
		err := fmt.Errorf("spec.verify needs a HelmRepository source of type oci; %s '%s' is not one", ref.Kind, ref.Name)
		conditions.MarkFalse(sc.obj, sourcev1.SourceVerifiedCondition, sourcev1.VerificationFailedReason, "%s", err)
		return steps.Stalled(sourcev1.VerificationFailedReason, err)
	}
	if sc.artifact = src.GetArtifact(); sc.artifact == nil {
		return wait("has no artifact yet")
	}
	return nil
}
