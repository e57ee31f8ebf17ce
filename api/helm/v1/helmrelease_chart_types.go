package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// HelmChartTemplate is the template of the HelmChart created for a release.
type HelmChartTemplate struct {
	// ObjectMeta holds labels and annotations for the HelmChart.
	// +optional
	ObjectMeta *HelmChartTemplateObjectMeta `json:"metadata,omitempty"`

	// Spec is the template of the HelmChart's spec.
	// +required
	Spec HelmChartTemplateSpec `json:"spec"`
}

// HelmChartTemplateObjectMeta holds labels and annotations for a HelmChart.
type HelmChartTemplateObjectMeta struct {
	// Labels to set on the HelmChart.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations to set on the HelmChart.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// HelmChartTemplateSpec is the template of a HelmChart's spec.
// +kubebuilder:validation:XValidation:rule="self.sourceRef.kind != 'HelmRepository' || (!self.chart.contains('/') && self.chart != '.')",message="spec.chart.spec.chart must be a chart name (no '/', not '.') when sourceRef.kind is HelmRepository"
// +kubebuilder:validation:XValidation:rule="!has(self.verify) || self.sourceRef.kind == 'HelmRepository'",message="spec.chart.spec.verify is only supported with a HelmRepository source (of type oci)"
// +kubebuilder:validation:XValidation:rule="!has(self.reconcileStrategy) || self.reconcileStrategy != 'Revision' || self.sourceRef.kind != 'HelmRepository'",message="spec.chart.spec.reconcileStrategy Revision needs a GitRepository or OCIRepository source"
type HelmChartTemplateSpec struct {
	// Chart is the chart's name in a HelmRepository, or the path of the chart inside a
	// GitRepository or OCIRepository artifact.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(s, s == '..')",message="spec.chart.spec.chart must be a relative path without '..' segments"
	Chart string `json:"chart"`

	// Version is a SemVer range of chart versions to pick the highest of; `*` (the default) for
	// the newest. Ignored for GitRepository and OCIRepository sources.
	// +optional
	// +kubebuilder:default="*"
	// +kubebuilder:validation:MaxLength=250
	Version string `json:"version,omitempty"`

	// SourceRef names the source the chart comes from.
	// +required
	SourceRef CrossNamespaceObjectReference `json:"sourceRef"`

	// Interval at which the HelmChart checks the source; the HelmRelease's interval when empty.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// ReconcileStrategy says what makes a new chart artifact: `ChartVersion` (the default), a
	// new chart version; `Revision`, a new source revision.
	// +optional
	// +kubebuilder:default=ChartVersion
	// +kubebuilder:validation:Enum=ChartVersion;Revision
	ReconcileStrategy string `json:"reconcileStrategy,omitempty"`

	// ValuesFiles are files, relative to the source's root, merged in order into the chart's
	// values.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.all(p, !p.startsWith('/') && !p.split('/').exists(s, s == '..'))",message="spec.chart.spec.valuesFiles paths must be relative and stay inside the source"
	ValuesFiles []string `json:"valuesFiles,omitempty"`

	// IgnoreMissingValuesFiles skips values files that do not exist instead of failing.
	// +optional
	IgnoreMissingValuesFiles bool `json:"ignoreMissingValuesFiles,omitempty"`

	// Verify checks the chart's signature (HelmRepository sources of type oci only).
	// +optional
	Verify *HelmChartTemplateVerification `json:"verify,omitempty"`
}

// CrossNamespaceObjectReference names the source of a chart template.
type CrossNamespaceObjectReference struct {
	// APIVersion of the source, e.g. `source.weir.dev/v1`.
	// +optional
	// +kubebuilder:validation:Pattern="^source\\.weir\\.dev/v[0-9a-z]+$"
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the source.
	// +required
	// +kubebuilder:validation:Enum=HelmRepository;GitRepository;OCIRepository
	Kind string `json:"kind"`

	// Name of the source.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the source, where the HelmChart is created; the HelmRelease's namespace
	// when empty.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// HelmChartTemplateVerification configures signature verification of an OCI chart.
type HelmChartTemplateVerification struct {
	// Provider is the signing technology: `cosign` (the default). `notation` is refused when
	// the HelmChart is reconciled: only cosign signatures are verified.
	// +optional
	// +kubebuilder:default=cosign
	// +kubebuilder:validation:Enum=cosign;notation
	Provider string `json:"provider,omitempty"`

	// SecretRef names a Secret in the source's namespace with the trusted cosign public keys
	// (entries ending in `.pub`). Required: keyless verification is not supported, and the
	// HelmChart is refused without it.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`
}

// CrossNamespaceSourceReference names an existing chart artifact for spec.chartRef.
type CrossNamespaceSourceReference struct {
	// APIVersion of the referent, e.g. `source.weir.dev/v1`.
	// +optional
	// +kubebuilder:validation:Pattern="^source\\.weir\\.dev/v[0-9a-z]+$"
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the referent.
	// +required
	// +kubebuilder:validation:Enum=OCIRepository;HelmChart;ExternalArtifact
	Kind string `json:"kind"`

	// Name of the referent.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the referent; the HelmRelease's namespace when empty.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}
