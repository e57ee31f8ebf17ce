package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/fluxcd/pkg/runtime/conditions"
	hchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// upToDate clears the failure conditions and stops the run when the artifact is current.
func (r *HelmChartReconciler) upToDate(sc *helmChartScope, name, version string) bool {
	if chartUpToDate(sc.obj, name, version) && r.Storage.Exists(*sc.obj.Status.Artifact) {
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
	data, version, err := pullChart(ctx, c, spec.Version, r.limits().MaxSize, func(version string) bool {
		return r.upToDate(sc, spec.Chart, version)
	})
	if errors.Is(err, steps.ErrStop) {
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
// (Helm writes `+` as `_` in tags) and pulls the chart layer. When stop says the version is
// already there, it returns steps.ErrStop before pulling.
func pullChart(ctx context.Context, c *oci.Client, versionRange string, maxSize int64, stop func(version string) bool) ([]byte, string, error) {
	if strings.TrimSpace(versionRange) == "" {
		versionRange = "*"
	}
	tag, desc, err := c.Resolve(ctx, oci.Ref{SemVer: versionRange, TagToVersion: func(t string) string { return strings.ReplaceAll(t, "_", "+") }})
	if err != nil {
		return nil, "", err
	}
	version := strings.ReplaceAll(tag, "_", "+")
	if stop != nil && stop(version) {
		return nil, version, steps.ErrStop
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
	f, err := r.Storage.Open(*sc.artifact)
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

// valuesFromChart reads values files from inside a pulled chart. A missing file is an error,
// unless ignoreMissing; found lists those read.
func valuesFromChart(ch *hchart.Chart, paths []string, ignoreMissing bool) ([]chart.ValuesFile, []string, error) {
	var files []chart.ValuesFile
	var found []string
	for _, p := range paths {
		clean, err := confinedPath(p)
		if err != nil {
			return nil, nil, fmt.Errorf("values file '%s': %w", p, err)
		}
		data, ok := chart.RawFile(ch, clean)
		if !ok {
			if ignoreMissing {
				continue
			}
			return nil, nil, fmt.Errorf("values file '%s' does not exist in chart '%s'", p, ch.Name())
		}
		files = append(files, chart.ValuesFile{Name: p, Data: data})
		found = append(found, p)
	}
	return files, found, nil
}

// valuesFromSource reads values files relative to the source's root through an os.Root, so no
// path or link can leave it, each within the per-file limit. A missing file is an error, unless
// ignoreMissing; found lists those read.
func (r *HelmChartReconciler) valuesFromSource(root string, paths []string, ignoreMissing bool) ([]chart.ValuesFile, []string, error) {
	if len(paths) == 0 {
		return nil, nil, nil
	}
	rt, err := os.OpenRoot(root)
	if err != nil {
		return nil, nil, err
	}
	defer rt.Close()
	var files []chart.ValuesFile
	var found []string
	for _, p := range paths {
		clean, err := confinedPath(p)
		if err != nil {
			return nil, nil, fmt.Errorf("values file '%s': %w", p, err)
		}
		f, err := rt.Open(clean)
		if errors.Is(err, fs.ErrNotExist) {
			if ignoreMissing {
				continue
			}
			return nil, nil, fmt.Errorf("values file '%s' does not exist in the source", p)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("values file '%s' cannot be read inside the source", p)
		}
		data, err := io.ReadAll(io.LimitReader(f, r.limits().MaxFileSize+1))
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("values file '%s' cannot be read: is it a file?", p)
		}
		if int64(len(data)) > r.limits().MaxFileSize {
			return nil, nil, fmt.Errorf("values file '%s' is larger than %d bytes", p, r.limits().MaxFileSize)
		}
		files = append(files, chart.ValuesFile{Name: p, Data: data})
		found = append(found, p)
	}
	return files, found, nil
}

// remoteDependency resolves a chart's non-local dependency through the HelmRepository in ns
// whose spec.url is the dependency's repository: from its stored index (type default) or its
// registry (type oci), with its credentials.
func (r *HelmChartReconciler) remoteDependency(ns string) chart.Remote {
	return func(ctx context.Context, dep *hchart.Dependency) (*hchart.Chart, error) {
		var list sourcev1.HelmRepositoryList
		if err := r.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		var repo *sourcev1.HelmRepository
		for i := range list.Items {
			if normalizeRepoURL(list.Items[i].Spec.URL) == normalizeRepoURL(dep.Repository) {
				repo = &list.Items[i]
				break
			}
		}
		if repo == nil {
			return nil, fmt.Errorf("no HelmRepository in namespace '%s' has spec.url '%s'", ns, dep.Repository)
		}
		var data []byte
		if repo.Spec.Type == sourcev1.HelmRepositoryTypeOCI {
			c, err := helmOCIClient(ctx, r.Client, repo, dep.Name)
			if err != nil {
				return nil, err
			}
			if data, _, err = pullChart(ctx, c, dep.Version, r.limits().MaxSize, nil); err != nil {
				return nil, err
			}
		} else {
			if repo.Status.Artifact == nil {
				return nil, fmt.Errorf("HelmRepository '%s' has no index yet", repo.Name)
			}
			idx, err := r.storedIndex(repo.Status.Artifact)
			if err != nil {
				return nil, err
			}
			cv, err := helmrepo.Select(idx, dep.Name, dep.Version)
			if err != nil {
				return nil, fmt.Errorf("HelmRepository '%s': %w", repo.Name, err)
			}
			c, err := helmIndexClient(ctx, r.Client, repo)
			if err != nil {
				return nil, err
			}
			if data, err = c.FetchChart(ctx, cv, r.limits().MaxSize); err != nil {
				return nil, err
			}
		}
		return chart.LoadArchive(data, r.Limits)
	}
}

// normalizeRepoURL compares repository URLs without a trailing slash.
func normalizeRepoURL(u string) string { return strings.TrimSuffix(strings.TrimSpace(u), "/") }

// storedIndexMaxSize bounds a stored index read back from storage.
const storedIndexMaxSize = 256 << 20

// storedIndex reads a HelmRepository's index artifact from storage, through a small cache
// keyed by digest, so charts of one repository parse its index once per revision.
func (r *HelmChartReconciler) storedIndex(a *meta.Artifact) (*repo.IndexFile, error) {
	return r.indexes.get(a.Digest, func() (*repo.IndexFile, error) {
		f, err := r.Storage.Open(*a)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, storedIndexMaxSize))
		if err != nil {
			return nil, fmt.Errorf("reading the stored index: %w", err)
		}
		return helmrepo.ParseNormalized(data)
	})
}

// indexCache holds the most recently used parsed indexes.
type indexCache struct {
	mu      sync.Mutex
	entries []indexEntry // most recent first
}

type indexEntry struct {
	digest string
	index  *repo.IndexFile
}

// indexCacheSize is how many parsed indexes indexCache keeps.
const indexCacheSize = 8

func (c *indexCache) get(digest string, load func() (*repo.IndexFile, error)) (*repo.IndexFile, error) {
	c.mu.Lock()
	for i, e := range c.entries {
		if e.digest == digest {
			copy(c.entries[1:i+1], c.entries[:i])
			c.entries[0] = e
			c.mu.Unlock()
			return e.index, nil
		}
	}
	c.mu.Unlock()
	idx, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append([]indexEntry{{digest, idx}}, c.entries...)
	if len(c.entries) > indexCacheSize {
		c.entries = c.entries[:indexCacheSize]
	}
	return idx, nil
}

// readLimited reads at most max bytes of the file at p.
func readLimited(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("larger than %d bytes: %w", max, chart.ErrLimit)
	}
	return data, nil
}
