package controller

import (
	"os"

	"helm.sh/helm/v3/pkg/chart"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/gate"
)

// ownerLabels returns the ownership labels of obj.
func ownerLabels(obj *helmv1.HelmRelease) map[string]string {
	return map[string]string{helmv1.OwnerNameLabel: obj.Name, helmv1.OwnerNamespaceLabel: obj.Namespace}
}

// hrScope is what the HelmRelease steps share. Each field names the step that fills it.
type hrScope struct {
	obj        *helmv1.HelmRelease
	maxObjects int // Reconcile: the most objects the release's manifest may hold

	releaseName string // reconcileSpec: validated spec.releaseName or its default

	helmChart *sourcev1.HelmChart // reconcileChartTemplate: the HelmChart of spec.chart, as written

	source   string         // reconcileSource: the chart's source, e.g. "HelmChart 'ns/name'"
	artifact *meta.Artifact // reconcileSource: the source's artifact
	oci      bool           // reconcileSource: the source is an OCIRepository or ExternalArtifact (revision carries the digest)

	dir      string       // reconcileChart: the extracted artifact, removed by cleanup
	chart    *chart.Chart // reconcileChart
	revision string       // reconcileChart: the chart version, with the OCI digest appended

	values         map[string]any // reconcileValues
	configDigest   string         // reconcileValues: release.ValuesDigest of values
	valuesChecksum string         // reconcileValues: release.ValuesChecksum of values

	held *gate.Hold // reconcileRelease: why the install or upgrade waits (approval, sync window)
}

// cleanup removes the extracted artifact.
func (sc *hrScope) cleanup() {
	if sc.dir != "" {
		_ = os.RemoveAll(sc.dir)
	}
}

// chartRef is "<name>@<version>" of the loaded chart, for messages.
func (sc *hrScope) chartRef() string {
	if sc.chart == nil || sc.chart.Metadata == nil {
		return ""
	}
	return sc.chart.Metadata.Name + "@" + sc.chart.Metadata.Version
}
