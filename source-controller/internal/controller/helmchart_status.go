package controller

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/source-controller/internal/chart"
	"weir.dev/source-controller/internal/helmrepo"
)

// helmChartKind is what the shared reconcile skeleton needs to know of HelmChart.
var helmChartKind = &sourceKind[*sourcev1.HelmChart]{
	kind: sourcev1.HelmChartKind,
	negative: []string{
		sourcev1.FetchFailedCondition,
		sourcev1.BuildFailedCondition,
		sourcev1.StorageOperationFailedCondition,
	},
	positive:  []string{sourcev1.ArtifactInStorageCondition, sourcev1.SourceVerifiedCondition},
	ready: helmChartReady,
}

// helmChartReady is Ready's reason and message after a successful run: the chart was pulled
// from a HelmRepository, or packaged from another source's artifact.
func helmChartReady(o *sourcev1.HelmChart) (string, string) {
	a := o.Status.Artifact
	if a == nil {
		return meta.SucceededReason, "no artifact"
	}
	if o.Spec.SourceRef.Kind == sourcev1.HelmRepositoryKind {
		return sourcev1.ChartPullSucceededReason, fmt.Sprintf("pulled '%s' chart with version '%s'", o.Status.ObservedChartName, a.Revision)
	}
	return sourcev1.ChartPackageSucceededReason, fmt.Sprintf("packaged '%s' chart with version '%s'", o.Status.ObservedChartName, a.Revision)
}

// validateHelmChartSpec checks what the schema checks too, so that an object written before
// the schema, or by a client that skipped it, cannot reach the file system: the chart name or
// path, the version range, and the values file paths.
func validateHelmChartSpec(obj *sourcev1.HelmChart) error {
	spec := obj.Spec
	if spec.SourceRef.Kind == sourcev1.HelmRepositoryKind {
		if err := chart.ValidateName(spec.Chart); err != nil {
			return fmt.Errorf("spec.chart: %w", err)
		}
		if _, err := helmrepo.ParseRange(spec.Version); err != nil {
			return fmt.Errorf("spec.version: %w", err)
		}
	} else if _, err := confinedPath(spec.Chart); err != nil {
		return fmt.Errorf("spec.chart: %w", err)
	}
	for _, f := range obj.GetValuesFiles() {
		if _, err := confinedPath(f); err != nil {
			return fmt.Errorf("spec.valuesFiles: '%s': %w", f, err)
		}
	}
	return nil
}

// confinedPath cleans a relative slash-separated path that must stay inside its root: not
// absolute, no `..` segment, no backslash or NUL, not empty.
func confinedPath(p string) (string, error) {
	switch {
	case p == "":
		return "", errors.New("path is empty")
	case strings.HasPrefix(p, "/"):
		return "", errors.New("path must be relative")
	case strings.ContainsAny(p, "\\\x00"):
		return "", errors.New("path has a backslash or NUL")
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return "", errors.New("path must not have '..' segments")
		}
	}
	return path.Clean(p), nil
}

// chartUpToDate reports whether the current artifact is the chart name at version, built with
// the values files valuesFiles (those found, as recorded in status).
func chartUpToDate(obj *sourcev1.HelmChart, name, version string) bool {
	st := obj.Status
	if st.Artifact == nil || st.Artifact.Revision != version || st.ObservedChartName != name {
		return false
	}
	if obj.Spec.IgnoreMissingValuesFiles {
		// Only the files found were recorded; any of the spec's files may have appeared since.
		return len(obj.GetValuesFiles()) == 0
	}
	return slices.Equal(st.ObservedValuesFiles, obj.GetValuesFiles())
}

// revisionBuildMetadata returns the build metadata that Revision strategy appends to a chart's
// version for a source revision: the first 12 hex digits of its digest or commit.
func revisionBuildMetadata(revision string) string {
	_, hex, found := strings.Cut(revision, "sha1:")
	if !found {
		_, hex, found = strings.Cut(revision, "sha256:")
	}
	if !found {
		hex = revision
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}

// chartTimeout is spec.timeout, else the HelmRepository's (when repo is set), else 60s.
func chartTimeout(obj *sourcev1.HelmChart, repo *sourcev1.HelmRepository) time.Duration {
	if repo != nil {
		return durationOr(obj.Spec.Timeout, durationOr(repo.Spec.Timeout, defaultTimeout))
	}
	return durationOr(obj.Spec.Timeout, defaultTimeout)
}
