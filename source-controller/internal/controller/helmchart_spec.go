package controller

import (
	"errors"
	"fmt"
	"path"
	"strings"

	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/source-controller/internal/chart"
	"weir.dev/source-controller/internal/helmrepo"
)

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
