package controller

import (
	"fmt"
	"slices"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

// helmChartKind is what the shared reconcile skeleton needs to know of HelmChart.
var helmChartKind = &sourceKind[*sourcev1.HelmChart]{
	kind: sourcev1.HelmChartKind,
	negative: []string{
		sourcev1.FetchFailedCondition,
		sourcev1.BuildFailedCondition,
		sourcev1.StorageOperationFailedCondition,
	},
	positive: []string{sourcev1.ArtifactInStorageCondition, sourcev1.SourceVerifiedCondition},
	ready:    helmChartReady,
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
