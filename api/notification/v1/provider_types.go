package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// ProviderKind is the kind name of Provider.
const ProviderKind = "Provider"

// Defaults of a Provider's durations, for objects that did not go through the API server.
const (
	// DefaultProviderInterval is how often a Provider's Secrets are re-checked when spec.interval is empty.
	DefaultProviderInterval = 10 * time.Minute
	// DefaultProviderTimeout bounds one delivery when spec.timeout is empty.
	DefaultProviderTimeout = 15 * time.Second
)

// ProviderSpec says where and how to deliver the events Alerts route to this Provider.
// +kubebuilder:validation:XValidation:rule="self.type == 'telegram' || has(self.address) || has(self.secretRef)",message="spec.address or spec.secretRef (with an `address` key) is required for every type but telegram"
// +kubebuilder:validation:XValidation:rule="!(self.type in ['github', 'gitlab', 'gitea', 'bitbucket', 'bitbucketserver']) || has(self.address)",message="spec.address, the repository URL, is required for types github, gitlab, gitea, bitbucket and bitbucketserver"
// +kubebuilder:validation:XValidation:rule="!(self.type in ['githubdispatch', 'azuredevops', 'githubpullrequestcomment', 'gitlabmergerequestcomment', 'giteapullrequestcomment']) || has(self.address)",message="spec.address, the repository URL, is required for types githubdispatch, azuredevops, githubpullrequestcomment, gitlabmergerequestcomment and giteapullrequestcomment"
// +kubebuilder:validation:XValidation:rule="!(self.type in ['github', 'gitlab', 'gitea', 'bitbucket', 'bitbucketserver', 'telegram', 'generic-hmac']) || has(self.secretRef)",message="spec.secretRef, holding the `token`, is required for types github, gitlab, gitea, bitbucket, bitbucketserver, telegram and generic-hmac"
// +kubebuilder:validation:XValidation:rule="!(self.type in ['opsgenie', 'datadog', 'webex', 'matrix', 'githubdispatch', 'azuredevops', 'githubpullrequestcomment', 'gitlabmergerequestcomment', 'giteapullrequestcomment', 'azureeventhub', 'googlepubsub']) || has(self.secretRef)",message="spec.secretRef, holding the `token`, is required for types opsgenie, datadog, webex, matrix, githubdispatch, azuredevops, githubpullrequestcomment, gitlabmergerequestcomment, giteapullrequestcomment, azureeventhub and googlepubsub"
// +kubebuilder:validation:XValidation:rule="self.type != 'telegram' || has(self.channel)",message="spec.channel, the chat ID, is required for type telegram"
// +kubebuilder:validation:XValidation:rule="!(self.type in ['webex', 'matrix']) || has(self.channel)",message="spec.channel, the room ID, is required for types webex and matrix"
// +kubebuilder:validation:XValidation:rule="self.type != 'googlepubsub' || has(self.channel)",message="spec.channel, the topic (projects/<project>/topics/<topic>), is required for type googlepubsub"
// +kubebuilder:validation:XValidation:rule="self.type != 'nats' || has(self.channel)",message="spec.channel, the subject, is required for type nats"
// +kubebuilder:validation:XValidation:rule="!has(self.address) || self.type == 'nats' || self.address.startsWith('http://') || self.address.startsWith('https://')",message="spec.address must be an http(s) URL for every type but nats"
// +kubebuilder:validation:XValidation:rule="self.type != 'pagerduty' || has(self.channel) || has(self.secretRef)",message="type pagerduty needs the integration's routing key: the `token` of spec.secretRef, or spec.channel"
// +kubebuilder:validation:XValidation:rule="!has(self.proxy) || !has(self.proxySecretRef)",message="at most one of spec.proxy and spec.proxySecretRef may be set"
type ProviderSpec struct {
	// Type of the notifier: slack, generic, generic-hmac, msteams, discord, googlechat, rocket,
	// mattermost, telegram, alertmanager, pagerduty, opsgenie, datadog, grafana, sentry, webex,
	// matrix, lark, githubdispatch; a commit-status type: github, gitlab, gitea, bitbucket,
	// bitbucketserver, azuredevops; or a pull-request comment type: githubpullrequestcomment,
	// gitlabmergerequestcomment, giteapullrequestcomment; or azureeventhub, googlepubsub, nats. Commit-status and comment types only
	// deliver events that carry a commit revision (comment types: and a change request number).
	// +required
	// +kubebuilder:validation:Enum=slack;generic;generic-hmac;msteams;discord;googlechat;rocket;mattermost;telegram;alertmanager;github;gitlab;gitea;bitbucket;bitbucketserver;pagerduty;opsgenie;datadog;grafana;sentry;webex;matrix;lark;githubdispatch;azuredevops;githubpullrequestcomment;gitlabmergerequestcomment;giteapullrequestcomment;azureeventhub;googlepubsub;nats
	Type string `json:"type"`

	// Interval at which the referenced Secrets are re-checked and Ready updated.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Channel to post to: a channel name for chat types, the chat ID for telegram, the room ID
	// for webex and matrix, the routing key for pagerduty (prefer the Secret's `token`).
	// Empty means the webhook's own channel.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Channel string `json:"channel,omitempty"`

	// Username to post as, where the type supports it.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Username string `json:"username,omitempty"`

	// Address to deliver to: the webhook or API URL, for commit-status types the repository's
	// HTTP(S) URL, for nats the server's nats:// or tls:// URL. An `address` key in the Secret named by secretRef overrides it, which keeps
	// webhook URLs that embed a credential out of the spec.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern="^(http|https|nats|tls)://.+$"
	Address string `json:"address,omitempty"`

	// Timeout of one delivery.
	// +optional
	// +kubebuilder:default="15s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Proxy is the HTTP(S) URL of a proxy to deliver through. Prefer proxySecretRef, which can
	// carry credentials.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern="^(http|https)://.+$"
	Proxy string `json:"proxy,omitempty"`

	// ProxySecretRef names a Secret with the `address`, and optional `username` and `password`,
	// of an HTTP(S) proxy to deliver through.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// SecretRef names a Secret in this namespace with any of: `address` (overrides spec.address),
	// `token` (API or bot token, API key, PagerDuty routing key, Event Hub connection string,
	// Google service account JSON key, or the HMAC key of generic-hmac), `username` and `password`
	// (basic auth), `headers` (a YAML map of extra HTTP headers, for generic and generic-hmac).
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret with `ca.crt` to verify the server, and optionally `tls.crt`
	// and `tls.key` for client authentication.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// Suspend stops delivery: events routed to this Provider are dropped while it is set.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ProviderStatus is the observed state of a Provider.
type ProviderStatus struct {
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
func (in *Provider) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Provider) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the interval at which the object is reconciled.
func (in *Provider) GetRequeueAfter() metav1.Duration {
	if in.Spec.Interval == nil {
		return metav1.Duration{Duration: DefaultProviderInterval}
	}
	return *in.Spec.Interval
}

// GetTimeout returns the timeout of one delivery.
func (in *Provider) GetTimeout() time.Duration {
	if in.Spec.Timeout == nil {
		return DefaultProviderTimeout
	}
	return in.Spec.Timeout.Duration
}

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=weir
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// Provider is a destination for events: a chat webhook, a generic webhook, Alertmanager, or a
// Git provider's commit-status API.
type Provider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ProviderSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ProviderStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ProviderList is a list of Providers.
type ProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Provider `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Provider{}, &ProviderList{})
}
