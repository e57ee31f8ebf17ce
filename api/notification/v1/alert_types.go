package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// AlertKind is the kind name of Alert.
const AlertKind = "Alert"

// DefaultAlertInterval is how often an Alert is re-checked when spec.interval is empty.
const DefaultAlertInterval = 10 * time.Minute

// AlertSpec says which events to forward to which Provider.
type AlertSpec struct {
	// ProviderRef names the Provider, in this namespace, to forward events to.
	// +required
	ProviderRef meta.LocalObjectReference `json:"providerRef"`

	// EventSeverity is the lowest severity forwarded: `info` forwards every event, `error` only
	// failures.
	// +optional
	// +kubebuilder:default=info
	// +kubebuilder:validation:Enum=info;error
	EventSeverity string `json:"eventSeverity,omitempty"`

	// EventSources selects the objects whose events are forwarded.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	EventSources []CrossNamespaceObjectReference `json:"eventSources"`

	// InclusionList holds Go regular expressions; when set, only events whose message matches
	// one of them are forwarded.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	InclusionList []string `json:"inclusionList,omitempty"`

	// ExclusionList holds Go regular expressions; events whose message matches any of them are
	// dropped, even if InclusionList matched.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	ExclusionList []string `json:"exclusionList,omitempty"`

	// EventMetadata is added to every forwarded event's metadata; keys the event already has
	// keep the event's value.
	// +optional
	EventMetadata map[string]string `json:"eventMetadata,omitempty"`

	// Summary is a short description of the impact, added to every forwarded event's metadata
	// as `summary`. Prefer eventMetadata.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Summary string `json:"summary,omitempty"`

	// Interval at which the Alert's Provider is re-checked and Ready updated.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Suspend stops forwarding: matching events are dropped while it is set.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// AlertStatus is the observed state of an Alert.
type AlertStatus struct {
	// ObservedGeneration is the last generation the controller observed.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: see condition_types.go for each type's polarity.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// GetConditions returns the status conditions.
func (in *Alert) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Alert) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the interval at which the object is reconciled.
func (in *Alert) GetRequeueAfter() metav1.Duration {
	if in.Spec.Interval == nil {
		return metav1.Duration{Duration: DefaultAlertInterval}
	}
	return *in.Spec.Interval
}

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=weir
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.providerRef.name`
// +kubebuilder:printcolumn:name="Severity",type=string,JSONPath=`.spec.eventSeverity`,priority=1
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// Alert forwards the events of selected Weir objects, filtered by severity and message, to a
// Provider.
type Alert struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec AlertSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status AlertStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// AlertList is a list of Alerts.
type AlertList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Alert `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Alert{}, &AlertList{})
}
