package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// ExternalArtifactKind is the kind name of ExternalArtifact.
const ExternalArtifactKind = "ExternalArtifact"

// ExternalArtifactSpec says which object produces the artifact.
type ExternalArtifactSpec struct {
	// SourceRef names the object that produces this artifact, e.g. the ArtifactGenerator that
	// owns it. It is informational: consumers read only status.artifact.
	// +optional
	SourceRef *meta.NamespacedObjectKindReference `json:"sourceRef,omitempty"`
}

// ExternalArtifactStatus is the artifact a producer stored, and whether it is ready.
type ExternalArtifactStatus struct {
	// ObservedGeneration is the last generation the producer observed.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, set by the producer.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Artifact is the newest artifact, served by source-controller's artifact server like the
	// other source kinds'. Its revision changes only when its content does.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`
}

// GetConditions returns the status conditions.
func (in *ExternalArtifact) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ExternalArtifact) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetArtifact returns the newest artifact, or nil.
func (in *ExternalArtifact) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ea,categories=weir
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.spec.sourceRef.name`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// ExternalArtifact is an artifact produced by another object (an ArtifactGenerator), which
// Kustomizations (spec.sourceRef) and HelmReleases (spec.chartRef) consume like any source's.
type ExternalArtifact struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ExternalArtifactSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ExternalArtifactStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ExternalArtifactList is a list of ExternalArtifacts.
type ExternalArtifactList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExternalArtifact `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ExternalArtifact{}, &ExternalArtifactList{})
}
