package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// HelmRepositoryKind is the kind name of HelmRepository.
const HelmRepositoryKind = "HelmRepository"

// Types of HelmRepository, for spec.type.
const (
	// HelmRepositoryTypeDefault is a classic Helm repository serving an index.yaml over HTTP(S).
	HelmRepositoryTypeDefault = "default"
	// HelmRepositoryTypeOCI is a Helm repository in an OCI registry.
	HelmRepositoryTypeOCI = "oci"
)

// DefaultHelmRepositoryInterval is the interval used when spec.interval is unset.
const DefaultHelmRepositoryInterval = time.Minute

// HelmRepositorySpec says which Helm repository to index, how often, and how to authenticate.
// +kubebuilder:validation:XValidation:rule="!self.url.startsWith('oci://') || (has(self.type) && self.type == 'oci')",message="spec.type must be oci for an oci:// spec.url"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'oci' || self.url.startsWith('oci://')",message="spec.url must start with oci:// when spec.type is oci"
// +kubebuilder:validation:XValidation:rule="!has(self.provider) || self.provider == 'generic' || (has(self.type) && self.type == 'oci')",message="spec.provider other than generic needs spec.type oci"
type HelmRepositorySpec struct {
	// URL of the repository: `https://` or `http://` for type `default` (where index.yaml is
	// served), `oci://` for type `oci`.
	// +required
	// +kubebuilder:validation:Pattern="^(http|https|oci)://.+$"
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url"`

	// SecretRef names a Secret in this namespace with credentials: `username` and `password` for
	// type `default`; a `kubernetes.io/dockerconfigjson` Secret, or `username` and `password`, for type `oci`.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret with `ca.crt` to trust and/or `tls.crt` and `tls.key` for mutual TLS.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// PassCredentials sends the credentials of spec.secretRef also to hosts other than the URL's,
	// such as the chart URLs the index points at. Only enable it for hosts you trust.
	// +optional
	PassCredentials bool `json:"passCredentials,omitempty"`

	// Interval at which the index is fetched again; 1m when unset. Not used for type `oci`, whose
	// charts are pulled by each HelmChart.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Insecure allows plain HTTP to an OCI registry (type `oci`).
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Timeout for fetching the index, and for registry operations of HelmCharts using a repository
	// of type `oci`.
	// +optional
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Suspend stops reconciliation; the existing artifact stays served.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// Type of the repository: `default` (an HTTP(S) index) or `oci` (an OCI registry).
	// +optional
	// +kubebuilder:validation:Enum=default;oci
	// +kubebuilder:default=default
	Type string `json:"type,omitempty"`

	// Provider of registry credentials for type `oci`: only `generic` (spec.secretRef). `aws`,
	// `azure` and `gcp` (the controller's cloud workload identity) are refused: this build
	// cannot log in with them.
	// +optional
	// +kubebuilder:validation:Enum=generic;aws;azure;gcp
	// +kubebuilder:validation:XValidation:rule="self == 'generic'",message="spec.provider aws, azure and gcp (cloud workload identity) are not supported: use generic with spec.secretRef"
	// +kubebuilder:default=generic
	Provider string `json:"provider,omitempty"`
}

// HelmRepositoryStatus is the observed state of a HelmRepository.
type HelmRepositoryStatus struct {
	// ObservedGeneration is the last generation the controller observed.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: see condition_types.go for each type's polarity.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is where the newest index artifact is served.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the newest index (type `default` only).
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// GetConditions returns the status conditions.
func (in *HelmRepository) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *HelmRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the interval at which the object is reconciled:
// spec.interval, or DefaultHelmRepositoryInterval when unset.
func (in *HelmRepository) GetRequeueAfter() metav1.Duration {
	if in.Spec.Interval == nil || in.Spec.Interval.Duration == 0 {
		return metav1.Duration{Duration: DefaultHelmRepositoryInterval}
	}
	return *in.Spec.Interval
}

// GetArtifact returns the newest artifact, or nil.
func (in *HelmRepository) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=helmrepo,categories=weir
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// HelmRepository is a Helm chart repository: an HTTP(S) index turned into an artifact, or an OCI
// registry HelmCharts pull from.
type HelmRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HelmRepositorySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status HelmRepositoryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// HelmRepositoryList is a list of HelmRepositories.
type HelmRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HelmRepository `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HelmRepository{}, &HelmRepositoryList{})
}
