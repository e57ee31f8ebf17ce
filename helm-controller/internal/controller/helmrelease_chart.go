package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"

	"github.com/fluxcd/pkg/runtime/conditions"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/helm/render"
	"weir.dev/pkg/steps"
)

// helmChartName is the name of the HelmChart made from obj's spec.chart, in the source's
// namespace: `<namespace>-<name>` of the HelmRelease.
func helmChartName(obj *helmv1.HelmRelease) string { return obj.Namespace + "-" + obj.Name }

// reconcileChartTemplate creates or updates the HelmChart of spec.chart, labelled as owned by
// this HelmRelease, and records it in status.helmChart. It deletes the HelmChart it made
// before when spec.chart moved it, or was replaced by spec.chartRef. A HelmChart of that name
// that another owner made is never changed: that stalls. It sets no condition.
func (r *HelmReleaseReconciler) reconcileChartTemplate(ctx context.Context, sc *hrScope) error {
	obj := sc.obj
	if obj.Spec.Chart == nil {
		if err := r.deleteHelmChart(ctx, obj); err != nil {
			return err
		}
		obj.Status.HelmChart = ""
		return nil
	}
	tmpl := obj.Spec.Chart
	ns := refNamespace(tmpl.Spec.SourceRef.Namespace, obj.Namespace)
	name := helmChartName(obj)
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("the HelmChart name '%s' made from the HelmRelease's namespace and name is invalid: %s", name, errs[0]))
	}
	if obj.Status.HelmChart != "" && obj.Status.HelmChart != ns+"/"+name {
		if err := r.deleteHelmChart(ctx, obj); err != nil {
			return err
		}
	}

	// Read past the cache: right after a create or update it may not hold the object yet.
	hc := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(hc), hc)
	switch {
	case apierrors.IsNotFound(err):
		setHelmChart(hc, obj)
		if err := r.Create(ctx, hc); err != nil {
			return fmt.Errorf("creating HelmChart '%s/%s': %w", ns, name, err)
		}
	case err != nil:
		return fmt.Errorf("reading HelmChart '%s/%s': %w", ns, name, err)
	case !ownedBy(hc.Labels, obj):
		return steps.Stalled(meta.AccessDeniedReason, fmt.Errorf("HelmChart '%s/%s' exists and is not managed by this HelmRelease", ns, name))
	default:
		before := hc.DeepCopy()
		setHelmChart(hc, obj)
		if !equalHelmChart(before, hc) {
			if err := r.Update(ctx, hc); err != nil {
				return fmt.Errorf("updating HelmChart '%s/%s': %w", ns, name, err)
			}
		}
	}
	obj.Status.HelmChart = ns + "/" + name
	sc.helmChart = hc
	return nil
}

// setHelmChart sets hc's labels, annotations and spec from obj's chart template. Defaults the
// API server would fill in are set explicitly, so an unchanged template is no update.
func setHelmChart(hc *sourcev1.HelmChart, obj *helmv1.HelmRelease) {
	t := obj.Spec.Chart
	labels := map[string]string{}
	annotations := map[string]string{}
	for k, v := range hc.Labels {
		labels[k] = v
	}
	for k, v := range hc.Annotations {
		annotations[k] = v
	}
	if t.ObjectMeta != nil {
		for k, v := range t.ObjectMeta.Labels {
			labels[k] = v
		}
		for k, v := range t.ObjectMeta.Annotations {
			annotations[k] = v
		}
	}
	for k, v := range ownerLabels(obj) {
		labels[k] = v
	}
	hc.Labels = labels
	if len(annotations) > 0 {
		hc.Annotations = annotations
	}
	interval := obj.Spec.Interval
	if t.Spec.Interval != nil {
		interval = *t.Spec.Interval
	}
	version := t.Spec.Version
	if version == "" {
		version = "*"
	}
	strategy := t.Spec.ReconcileStrategy
	if strategy == "" {
		strategy = sourcev1.ReconcileStrategyChartVersion
	}
	spec := sourcev1.HelmChartSpec{
		Chart:   t.Spec.Chart,
		Version: version,
		SourceRef: sourcev1.HelmChartSourceReference{
			APIVersion: t.Spec.SourceRef.APIVersion,
			Kind:       t.Spec.SourceRef.Kind,
			Name:       t.Spec.SourceRef.Name,
		},
		Interval:                 interval,
		ReconcileStrategy:        strategy,
		ValuesFiles:              t.Spec.ValuesFiles,
		IgnoreMissingValuesFiles: t.Spec.IgnoreMissingValuesFiles,
	}
	if v := t.Spec.Verify; v != nil {
		provider := v.Provider
		if provider == "" {
			provider = "cosign"
		}
		spec.Verify = &sourcev1.OCIRepositoryVerification{Provider: provider, SecretRef: v.SecretRef}
	}
	hc.Spec = spec
}

func equalHelmChart(a, b *sourcev1.HelmChart) bool {
	as, bs := a.Spec, b.Spec
	if len(as.ValuesFiles) == 0 {
		as.ValuesFiles = nil
	}
	if len(bs.ValuesFiles) == 0 {
		bs.ValuesFiles = nil
	}
	return maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations) && apiequality.Semantic.DeepEqual(as, bs)
}

// ownedBy reports whether labels mark an object as obj's.
func ownedBy(labels map[string]string, obj *helmv1.HelmRelease) bool {
	return labels[helmv1.OwnerNameLabel] == obj.Name && labels[helmv1.OwnerNamespaceLabel] == obj.Namespace
}

// deleteHelmChart deletes the HelmChart in status.helmChart if this HelmRelease owns it.
func (r *HelmReleaseReconciler) deleteHelmChart(ctx context.Context, obj *helmv1.HelmRelease) error {
	ns, name := obj.Status.GetHelmChart()
	if name == "" {
		return nil
	}
	hc := &sourcev1.HelmChart{}
	err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, hc)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading HelmChart '%s/%s': %w", ns, name, err)
	}
	if !ownedBy(hc.Labels, obj) {
		return nil
	}
	if err := r.Delete(ctx, hc); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting HelmChart '%s/%s': %w", ns, name, err)
	}
	return nil
}

// chartSource is a kind whose artifact can be a chart.
type chartSource interface {
	client.Object
	GetArtifact() *meta.Artifact
	GetConditions() []metav1.Condition
}

// reconcileSource finds the chart's source (the HelmChart of spec.chart as written or read by
// reconcileChartTemplate, so never older than its spec, or spec.chartRef) and
// waits until it is Ready for its current generation with an artifact, so that a chart
// version that cannot be found is reported, with the source's message, instead of releasing
// the previous artifact. It sets no condition.
func (r *HelmReleaseReconciler) reconcileSource(ctx context.Context, sc *hrScope) error {
	obj := sc.obj
	var (
		src      chartSource
		ns, name string
	)
	switch {
	case obj.Spec.Chart != nil:
		ns, name = obj.Status.GetHelmChart()
		src = sc.helmChart
	case obj.Spec.ChartRef != nil:
		ref := obj.Spec.ChartRef
		ns, name = refNamespace(ref.Namespace, obj.Namespace), ref.Name
		switch ref.Kind {
		case sourcev1.HelmChartKind:
			src = &sourcev1.HelmChart{}
		case sourcev1.OCIRepositoryKind:
			src = &sourcev1.OCIRepository{}
			sc.oci = true
		case sourcev1.ExternalArtifactKind:
			// A generated chart may change without a new version: its revision carries the
			// artifact digest, as an OCIRepository's does.
			src = &sourcev1.ExternalArtifact{}
			sc.oci = true
		default:
			return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("spec.chartRef.kind %q is not HelmChart, OCIRepository or ExternalArtifact", ref.Kind))
		}
	default:
		return steps.Stalled(meta.InvalidSpecReason, errors.New("spec: one of chart and chartRef must be set"))
	}
	kind := sourcev1.HelmChartKind
	if obj.Spec.Chart == nil {
		kind = obj.Spec.ChartRef.Kind
	}
	sc.source = fmt.Sprintf("%s '%s/%s'", kind, ns, name)
	if obj.Spec.Chart == nil {
		if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, src); err != nil {
			if apierrors.IsNotFound(err) {
				return steps.Waiting(meta.DependencyNotReadyReason, r.DependencyRequeue, fmt.Errorf("%s not found", sc.source))
			}
			return err
		}
	}
	if why := sourceNotReady(src); why != "" {
		return steps.Waiting(meta.DependencyNotReadyReason, r.DependencyRequeue, fmt.Errorf("%s is not ready: %s", sc.source, why))
	}
	sc.artifact = src.GetArtifact().DeepCopy()
	return nil
}

// sourceNotReady says why src's artifact is not the one for its current spec, or "".
func sourceNotReady(src chartSource) string {
	ready := conditions.Get(src, meta.ReadyCondition)
	switch {
	case ready == nil:
		return "it has not been reconciled yet"
	case ready.ObservedGeneration != src.GetGeneration():
		return fmt.Sprintf("generation %d has not been reconciled yet", src.GetGeneration())
	case ready.Status != metav1.ConditionTrue:
		return ready.Message
	case src.GetArtifact() == nil:
		return "it has no artifact yet"
	}
	return ""
}

// reconcileChart downloads the source's artifact, verifies its digest, extracts it into a
// fresh directory within the size limits and loads the chart from it. A download failure is
// retried; an artifact that holds no valid chart stalls (a new artifact triggers a retry).
// It sets no condition.
func (r *HelmReleaseReconciler) reconcileChart(ctx context.Context, sc *hrScope) error {
	dir, err := os.MkdirTemp("", "helmrelease-")
	if err != nil {
		return err
	}
	sc.dir = dir
	fetchCtx, cancel := context.WithTimeout(ctx, sc.obj.GetTimeout())
	defer cancel()
	if err := r.Fetcher.Fetch(fetchCtx, sc.artifact.URL, sc.artifact.Digest, dir); err != nil {
		return steps.Failed(meta.ArtifactFailedReason, fmt.Errorf("fetching the artifact of %s (revision %s): %w", sc.source, sc.artifact.Revision, err))
	}
	ch, err := render.LoadChart(dir)
	if err != nil {
		return steps.Stalled(helmv1.ChartFailedReason, fmt.Errorf("the artifact of %s (revision %s): %w", sc.source, sc.artifact.Revision, err))
	}
	sc.chart = ch
	sc.revision = ch.Metadata.Version
	if sc.oci {
		if d := digestHex(sc.artifact.Digest); d != "" {
			sc.revision += "+" + d[:min(12, len(d))]
		}
	}
	return nil
}

// digestHex returns the hex part of an `<algorithm>:<hex>` digest.
func digestHex(d string) string {
	for i := range d {
		if d[i] == ':' {
			return d[i+1:]
		}
	}
	return ""
}
