package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/runtime/conditions"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	hchart "helm.sh/helm/v3/pkg/chart"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/chart"
	"weir.dev/source-controller/internal/helmrepo"
	"weir.dev/source-controller/internal/oci"
)

// helmChartContentMediaType is the layer of a chart in an OCI registry.
const helmChartContentMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

// reconcileBuild pulls the chart from a HelmRepository (index or registry), or loads it from a
// GitRepository's or OCIRepository's artifact and completes its dependencies; it then merges
// the values files and packages it, within spec.timeout. When the current artifact already is
// that chart version, with the same values files, the run stops here. It sets FetchFailed when
// the chart cannot be pulled and BuildFailed when it cannot be loaded or packaged.
func (r *HelmChartReconciler) reconcileBuild(ctx context.Context, sc *helmChartScope) error {
	ctx, cancel := context.WithTimeout(ctx, chartTimeout(sc.obj, sc.repo))
	defer cancel()
	var err error
	switch {
	case sc.repo != nil && sc.repo.Spec.Type == sourcev1.HelmRepositoryTypeOCI:
		err = r.buildFromRegistry(ctx, sc)
	case sc.repo != nil:
		err = r.buildFromIndex(ctx, sc)
	default:
		err = r.buildFromArtifact(ctx, sc)
	}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, steps.ErrStop) {
			err = fmt.Errorf("%w (timed out after %s)", err, chartTimeout(sc.obj, sc.repo))
		}
		return err
	}
	conditions.Delete(sc.obj, sourcev1.FetchFailedCondition)
	conditions.Delete(sc.obj, sourcev1.BuildFailedCondition)
	return nil
}

// upToDate clears the failure conditions and stops the run when the artifact is current and
// intact in storage.
func (r *HelmChartReconciler) upToDate(sc *helmChartScope, name, version string) bool {
	if chartUpToDate(sc.obj, name, version) && storedArtifactIntact(r.Storage, r.EventRecorder, sc.obj, *sc.obj.Status.Artifact) {
		conditions.Delete(sc.obj, sourcev1.FetchFailedCondition)
		conditions.Delete(sc.obj, sourcev1.BuildFailedCondition)
		return true
	}
	return false
}

// buildFailed sets BuildFailed and classifies err as transient.
func buildFailed(obj conditions.Setter, err error) error {
	conditions.MarkTrue(obj, sourcev1.BuildFailedCondition, sourcev1.ChartPackageFailedReason, "%s", err)
	return steps.Failed(sourcev1.ChartPackageFailedReason, err)
}

// buildFromIndex picks the highest version in range from the HelmRepository's stored index and
// downloads it with the repository's credentials.
func (r *HelmChartReconciler) buildFromIndex(ctx context.Context, sc *helmChartScope) error {
	spec := sc.obj.Spec
	idx, err := r.storedIndex(sc.artifact)
	if err != nil {
		return storageFailed(sc.obj, err)
	}
	cv, err := helmrepo.Select(idx, spec.Chart, spec.Version)
	if err != nil {
		return fetchFailed(sc.obj, sourcev1.ChartPullFailedReason, fmt.Errorf("HelmRepository '%s': %w", sc.repo.Name, err))
	}
	if r.upToDate(sc, cv.Name, cv.Version) {
		return steps.ErrStop
	}
	client, err := helmIndexClient(ctx, r.Client, sc.repo)
	if err != nil {
		conditions.MarkTrue(sc.obj, sourcev1.FetchFailedCondition, reasonOf(err, meta.AuthenticationFailedReason), "%s", err)
		return err
	}
	data, err := client.FetchChart(ctx, cv, r.limits().MaxSize)
	if err != nil {
		reason := sourcev1.ChartPullFailedReason
		if errors.Is(err, helmrepo.ErrAuthentication) {
			reason = meta.AuthenticationFailedReason
		}
		return fetchFailed(sc.obj, reason, err)
	}
	return r.finishPulled(sc, data, cv.Name, cv.Version)
}

// buildFromRegistry pulls the highest version in range from a HelmRepository of type oci.
func (r *HelmChartReconciler) buildFromRegistry(ctx context.Context, sc *helmChartScope) error {
	spec := sc.obj.Spec
	c, err := helmOCIClient(ctx, r.Client, sc.repo, spec.Chart)
	if err != nil {
		conditions.MarkTrue(sc.obj, sourcev1.FetchFailedCondition, reasonOf(err, sourcev1.ChartPullFailedReason), "%s", err)
		return err
	}
	data, version, err := pullChart(ctx, c, spec.Version, r.limits().MaxSize, func(version string, desc ocispec.Descriptor) error {
		if (spec.Verify == nil || conditions.IsTrue(sc.obj, sourcev1.SourceVerifiedCondition)) && r.upToDate(sc, spec.Chart, version) {
			return steps.ErrStop
		}
		if spec.Verify != nil {
			return sourceReconciler{Client: r.Client}.verifyCosign(ctx, sc.obj, sc.obj.Namespace, spec.Verify, c, desc, version)
		}
		return nil
	})
	if errors.Is(err, steps.ErrStop) || reasonOf(err, "") == sourcev1.VerificationFailedReason {
		return err
	}
	if err != nil {
		reason := sourcev1.ChartPullFailedReason
		if errors.Is(err, oci.ErrAuthentication) {
			reason = meta.AuthenticationFailedReason
		}
		return fetchFailed(sc.obj, reason, err)
	}
	return r.finishPulled(sc, data, spec.Chart, version)
}

// pullChart resolves the highest chart version in the SemVer range among the repository's tags
// (Helm writes `+` as `_` in tags) and pulls the chart layer. check, when set, sees the version
// and manifest before anything is pulled: an error from it (steps.ErrStop to stop early) is
// returned as it is.
func pullChart(ctx context.Context, c *oci.Client, versionRange string, maxSize int64, check func(version string, desc ocispec.Descriptor) error) ([]byte, string, error) {
	if strings.TrimSpace(versionRange) == "" {
		versionRange = "*"
	}
	tag, desc, err := c.Resolve(ctx, oci.Ref{SemVer: versionRange, TagToVersion: func(t string) string { return strings.ReplaceAll(t, "_", "+") }})
	if err != nil {
		return nil, "", err
	}
	version := strings.ReplaceAll(tag, "_", "+")
	if check != nil {
		if err := check(version, desc); err != nil {
			return nil, version, err
		}
	}
	m, err := c.Manifest(ctx, desc, 0)
	if err != nil {
		return nil, "", err
	}
	layer, err := oci.SelectLayer(m, helmChartContentMediaType)
	if err != nil {
		return nil, "", fmt.Errorf("%s:%s: %w", c.Path, tag, err)
	}
	if maxSize <= 0 {
		maxSize = chart.DefaultMaxSize
	}
	var buf bytes.Buffer
	if err := c.CopyBlob(ctx, layer, maxSize, &buf); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), version, nil
}

// finishPulled checks a pulled chart archive and, when values files are listed, merges them
// (from inside the chart) and repackages it; otherwise the archive is kept byte for byte.
func (r *HelmChartReconciler) finishPulled(sc *helmChartScope, data []byte, name, version string) error {
	ch, err := chart.LoadArchive(data, r.Limits)
	if err != nil {
		return buildFailed(sc.obj, fmt.Errorf("chart '%s' version '%s': %w", name, version, err))
	}
	if ch.Name() != name || ch.Metadata.Version != version {
		return buildFailed(sc.obj, fmt.Errorf("the archive of chart '%s' version '%s' holds chart '%s' version '%s'", name, version, ch.Name(), ch.Metadata.Version))
	}
	sc.name, sc.version = name, version
	files, found, err := valuesFromChart(ch, sc.obj.GetValuesFiles(), sc.obj.Spec.IgnoreMissingValuesFiles)
	if err != nil {
		return buildFailed(sc.obj, err)
	}
	sc.valuesFiles = found
	if len(files) == 0 {
		sc.data = data
		return nil
	}
	return r.packageChart(sc, ch, files)
}

// buildFromArtifact loads the chart at spec.chart in the source's artifact, completes its
// dependencies from local paths and the namespace's HelmRepositories, and packages it.
func (r *HelmChartReconciler) buildFromArtifact(ctx context.Context, sc *helmChartScope) error {
	spec := sc.obj.Spec
	tmp, err := os.MkdirTemp("", "helmchart-")
	if err != nil {
		return storageFailed(sc.obj, err)
	}
	defer os.RemoveAll(tmp)
	f, err := r.Storage.OpenVerified(*sc.artifact)
	if err != nil {
		return fetchFailed(sc.obj, meta.ArtifactFailedReason, fmt.Errorf("%s '%s': %w", spec.SourceRef.Kind, spec.SourceRef.Name, err))
	}
	err = artifact.Extract(f, tmp, artifact.Limits{})
	f.Close()
	if err != nil {
		return fetchFailed(sc.obj, meta.ArtifactFailedReason, fmt.Errorf("%s '%s': %w", spec.SourceRef.Kind, spec.SourceRef.Name, err))
	}
	rel, _ := confinedPath(spec.Chart)
	chartPath := filepath.Join(tmp, filepath.FromSlash(rel))
	fi, err := os.Stat(chartPath)
	if err != nil {
		return buildFailed(sc.obj, fmt.Errorf("spec.chart: '%s' does not exist in revision '%s' of %s '%s'", rel, sc.artifact.Revision, spec.SourceRef.Kind, spec.SourceRef.Name))
	}
	var ch *hchart.Chart
	dir := ""
	if fi.IsDir() {
		ch, err = chart.LoadDir(chartPath, r.Limits)
		dir = chartPath
	} else {
		var data []byte
		if data, err = readLimited(chartPath, r.limits().MaxSize); err == nil {
			ch, err = chart.LoadArchive(data, r.Limits)
		}
	}
	if err != nil {
		return buildFailed(sc.obj, fmt.Errorf("spec.chart '%s': %w", rel, err))
	}
	version := ch.Metadata.Version
	if spec.ReconcileStrategy == sourcev1.ReconcileStrategyRevision {
		if version, err = chart.WithBuildMetadata(version, revisionBuildMetadata(sc.artifact.Revision)); err != nil {
			return buildFailed(sc.obj, fmt.Errorf("spec.chart '%s': %w", rel, err))
		}
	}
	files, found, err := r.valuesFromSource(tmp, sc.obj.GetValuesFiles(), spec.IgnoreMissingValuesFiles)
	if err != nil {
		return buildFailed(sc.obj, err)
	}
	if r.upToDate(sc, ch.Name(), version) {
		return steps.ErrStop
	}
	deps := &chart.Dependencies{Root: tmp, Remote: r.remoteDependency(sc.obj.Namespace), Limits: r.Limits}
	if sc.deps, err = deps.Build(ctx, ch, dir); err != nil {
		return buildFailed(sc.obj, err)
	}
	ch.Metadata.Version = version
	sc.name, sc.version, sc.valuesFiles = ch.Name(), version, found
	return r.packageChart(sc, ch, files)
}

// packageChart merges the values files into the chart's default values and packages it,
// within the size limit.
func (r *HelmChartReconciler) packageChart(sc *helmChartScope, ch *hchart.Chart, files []chart.ValuesFile) error {
	if len(files) > 0 {
		data, values, err := chart.MergeValues(files)
		if err != nil {
			return buildFailed(sc.obj, err)
		}
		chart.SetValues(ch, data, values)
	}
	var buf bytes.Buffer
	if err := chart.Package(&buf, ch); err != nil {
		return buildFailed(sc.obj, fmt.Errorf("packaging chart '%s': %w", ch.Name(), err))
	}
	if max := r.limits().MaxSize; int64(buf.Len()) > max {
		return buildFailed(sc.obj, fmt.Errorf("the packaged chart '%s' is %d bytes, over the limit of %d bytes", ch.Name(), buf.Len(), max))
	}
	sc.data = buf.Bytes()
	return nil
}

func (r *HelmChartReconciler) limits() chart.Limits {
	l := r.Limits
	if l.MaxSize <= 0 {
		l.MaxSize = chart.DefaultMaxSize
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = chart.DefaultMaxFileSize
	}
	return l
}
