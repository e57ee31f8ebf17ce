package v1

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// ReceiverKind is the kind name of Receiver.
const ReceiverKind = "Receiver"

// ReceiverWebhookPathPrefix starts every Receiver's webhook path.
const ReceiverWebhookPathPrefix = "/hook/"

// DefaultReceiverInterval is how often a Receiver's Secret is re-checked when spec.interval is empty.
const DefaultReceiverInterval = 10 * time.Minute

// ReceiverSpec says which webhook sender to accept and which objects to reconcile when it calls.
// +kubebuilder:validation:XValidation:rule="has(self.resourceFilter) || self.resources.all(r, r.name != '*' || has(r.matchLabels))",message="spec.resources: name '*' requires matchLabels, or spec.resourceFilter, to narrow it"
type ReceiverSpec struct {
	// Type of the webhook sender, which decides how a request is authenticated and parsed:
	// generic, generic-hmac, github, gitlab, bitbucket, harbor, dockerhub, quay, nexus, cdevents,
	// generic-oidc, gcr, acr.
	// +required
	// +kubebuilder:validation:Enum=generic;generic-hmac;github;gitlab;bitbucket;harbor;dockerhub;quay;nexus;cdevents;generic-oidc;gcr;acr
	Type string `json:"type"`

	// Interval at which the referenced Secret is re-checked and the webhook path recomputed.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Events lists the sender's event types to act on, e.g. `push` (github), `Push Hook`
	// (gitlab), `repo:push` (bitbucket) or a CDEvents type; every event when empty. Only these
	// four types carry an event type; the others ignore the list.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	Events []string `json:"events,omitempty"`

	// Resources are the objects to reconcile, by requesting a reconcile on each, when an accepted
	// request arrives. A name `*` must be narrowed by matchLabels or by resourceFilter.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	Resources []CrossNamespaceObjectReference `json:"resources"`

	// ResourceFilter is a CEL expression evaluated for each object Resources selects, with
	// `res` (the object) and `req` (the request body) in scope; objects for which it is false
	// are not reconciled. A filter that does not compile to a boolean stalls the Receiver.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	ResourceFilter string `json:"resourceFilter,omitempty"`

	// SecretRef names a Secret in this namespace whose `token` authenticates requests and
	// determines the webhook path. For generic-oidc it also holds `issuer` and `audience`, and
	// optionally `jwksURL` (default: the issuer's discovery document) and `subject`; for gcr
	// `audience` and optionally `email`, the push subscription's service account.
	// +required
	SecretRef meta.LocalObjectReference `json:"secretRef"`

	// Suspend stops handling requests: they are answered but nothing is reconciled.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ReceiverStatus is the observed state of a Receiver.
type ReceiverStatus struct {
	// ObservedGeneration is the last generation the controller observed.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: see condition_types.go for each type's polarity.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// WebhookPath is the path, on the controller's webhook listener, at which this Receiver
	// accepts requests: `/hook/` followed by a digest of the token, name and namespace.
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// GetConditions returns the status conditions.
func (in *Receiver) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Receiver) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the interval at which the object is reconciled.
func (in *Receiver) GetRequeueAfter() metav1.Duration {
	if in.Spec.Interval == nil {
		return metav1.Duration{Duration: DefaultReceiverInterval}
	}
	return *in.Spec.Interval
}

// GetWebhookPath returns the webhook path for the given token: ReceiverWebhookPathPrefix and the
// hex SHA-256 of the token, the name and the namespace, concatenated. The same inputs give
// the same path as Flux, so senders keep working after a move.
func (in *Receiver) GetWebhookPath(token string) string {
	sum := sha256.Sum256([]byte(token + in.GetName() + in.GetNamespace()))
	return ReceiverWebhookPathPrefix + hex.EncodeToString(sum[:])
}

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=weir
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Webhook",type=string,JSONPath=`.status.webhookPath`,priority=1
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// Receiver turns authenticated incoming webhooks (a Git push, an image pushed to a registry)
// into reconcile requests on the selected Weir objects.
type Receiver struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ReceiverSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ReceiverStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ReceiverList is a list of Receivers.
type ReceiverList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Receiver `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Receiver{}, &ReceiverList{})
}
