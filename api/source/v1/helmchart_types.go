package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// HelmChartKind is the kind name of HelmChart.
const HelmChartKind = "HelmChart"

// Reconcile strategies, for spec.reconcileStrategy.
const (
	// ReconcileStrategyChartVersion makes a new artifact when the chart's version changes.
	ReconcileStrategyChartVersion = "ChartVersion"
	// ReconcileStrategyRevision makes a new artifact when the source's revision changes
	// (GitRepository and OCIRepository sources).
	ReconcileStrategyRevision = "Revision"
)

// HelmChartSpec says which chart to take from which source, at which version, with which values.
// +kubebuilder:validation:XValidation:rule="self.sourceRef.kind != 'HelmRepository' || (!self.chart.contains('/') && self.chart != '.')",message="spec.chart must be a chart name (no '/', not '.') when spec.sourceRef.kind is HelmRepository"
// +kubebuilder:validation:XValidation:rule="!has(self.verify) || self.sourceRef.kind == 'HelmRepository'",message="spec.verify is only supported with a HelmRepository source (of type oci); verify an OCIRepository source on the OCIRepository"
// +kubebuilder:validation:XValidation:rule="!has(self.reconcileStrategy) || self.reconcileStrategy != 'Revision' || self.sourceRef.kind != 'HelmRepository'",message="spec.reconcileStrategy Revision needs a GitRepository or OCIRepository source"
type HelmChartSpec struct {
	// Chart is the chart's name in a HelmRepository, or the path of the chart's directory or
	// packaged .tgz inside a GitRepository or OCIRepository artifact.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(s, s == '..')",message="spec.chart must be a relative path without '..' segments"
	Chart string `json:"chart"`

	// Version is a SemVer range of the chart versions to pick the highest of, `*` (the default)
	// for the newest. Ignored for GitRepository and OCIRepository sources.
	// +optional
	// +kubebuilder:default="*"
	// +kubebuilder:validation:MaxLength=250
	Version string `json:"version,omitempty"`

	// SourceRef names the source, in this namespace, the chart comes from.
	// +required
	SourceRef HelmChartSourceReference `json:"sourceRef"`

	// Interval at which the source is checked for a new chart version or revision.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval metav1.Duration `json:"interval"`

	// Timeout for pulling and packaging the chart; when unset, the HelmRepository's timeout,
	// or 60s for other sources.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// ReconcileStrategy says what makes a new artifact: `ChartVersion` (the default), a new chart
	// version; or `Revision`, a new source revision (GitRepository and OCIRepository sources).
	// +optional
	// +kubebuilder:validation:Enum=ChartVersion;Revision
	// +kubebuilder:default=ChartVersion
	ReconcileStrategy string `json:"reconcileStrategy,omitempty"`

	// ValuesFiles are files, relative to the source's root, merged in order (later files win)
	// into the chart's values.yaml in the artifact. The chart's own values.yaml is not included
	// unless listed.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.all(p, !p.startsWith('/') && !p.split('/').exists(s, s == '..'))",message="spec.valuesFiles paths must be relative and stay inside the source"
	ValuesFiles []string `json:"valuesFiles,omitempty"`

	// ValuesFile is a values file merged before spec.valuesFiles.
	// Deprecated: use spec.valuesFiles.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(s, s == '..')",message="spec.valuesFile must be relative and stay inside the source"
	ValuesFile string `json:"valuesFile,omitempty"`

	// IgnoreMissingValuesFiles skips values files that do not exist instead of failing.
	// +optional
	IgnoreMissingValuesFiles bool `json:"ignoreMissingValuesFiles,omitempty"`

	// Suspend stops reconciliation; the existing artifact stays served.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// Verify checks the chart's cosign signature, with public keys, when it is pulled from a
	// HelmRepository of type `oci` (keyless and notation are refused, as in OCIRepository).
	// Dependencies not bundled in the chart are not verified.
	// +optional
	Verify *OCIRepositoryVerification `json:"verify,omitempty"`
}

// HelmChartSourceReference names the source of a chart, in the HelmChart's namespace.
type HelmChartSourceReference struct {
	// APIVersion of the source, e.g. `source.weir.dev/v1`; the kind's preferred version when empty.
	// +optional
	// +kubebuilder:validation:Pattern="^source\\.weir\\.dev/v[0-9a-z]+$"
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the source: `HelmRepository`, `GitRepository` or `OCIRepository`.
	// +required
	// +kubebuilder:validation:Enum=HelmRepository;GitRepository;OCIRepository
	Kind string `json:"kind"`

	// Name of the source.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// HelmChartStatus is the observed state of a HelmChart.
type HelmChartStatus struct {
	// ObservedGeneration is the last generation the controller observed.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ObservedSourceArtifactRevision is the revision of the source's artifact the chart was built from.
	// +optional
	ObservedSourceArtifactRevision string `json:"observedSourceArtifactRevision,omitempty"`

	// ObservedChartName is the name of the chart in the artifact.
	// +optional
	ObservedChartName string `json:"observedChartName,omitempty"`

	// ObservedValuesFiles are the values files merged into the artifact's chart; with
	// spec.ignoreMissingValuesFiles, only those that existed.
	// +optional
	ObservedValuesFiles []string `json:"observedValuesFiles,omitempty"`

	// Conditions: see condition_types.go for each type's polarity.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is where the newest artifact is served.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the newest packaged chart; its revision is the chart version.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// GetConditions returns the status conditions.
func (in *HelmChart) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *HelmChart) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the interval at which the object is reconciled.
func (in *HelmChart) GetRequeueAfter() metav1.Duration { return in.Spec.Interval }

// GetArtifact returns the newest artifact, or nil.
func (in *HelmChart) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// GetValuesFiles returns the values files to merge, in order: the deprecated spec.valuesFile
// first, then spec.valuesFiles.
func (in *HelmChart) GetValuesFiles() []string {
	if in.Spec.ValuesFile == "" {
		return in.Spec.ValuesFiles
	}
	return append([]string{in.Spec.ValuesFile}, in.Spec.ValuesFiles...)
}

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hc,categories=weir
// +kubebuilder:printcolumn:name="Chart",type=string,JSONPath=`.spec.chart`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.spec.version`
// +kubebuilder:printcolumn:name="Source Kind",type=string,JSONPath=`.spec.sourceRef.kind`
// +kubebuilder:printcolumn:name="Source Name",type=string,JSONPath=`.spec.sourceRef.name`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// HelmChart turns a chart from a HelmRepository, GitRepository or OCIRepository into a packaged
// chart artifact.
type HelmChart struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HelmChartSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status HelmChartStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// HelmChartList is a list of HelmCharts.
type HelmChartList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HelmChart `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HelmChart{}, &HelmChartList{})
}
