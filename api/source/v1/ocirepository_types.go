package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// OCIRepositoryKind is the kind name of OCIRepository.
const OCIRepositoryKind = "OCIRepository"

// OCIRepositoryPrefix is the scheme every OCIRepository URL starts with.
const OCIRepositoryPrefix = "oci://"

// Providers of registry credentials, for spec.provider of OCIRepository and HelmRepository.
const (
	// GenericOCIProvider uses spec.secretRef, spec.serviceAccountName's pull secrets, or no credentials.
	GenericOCIProvider = "generic"
	// AmazonOCIProvider (Amazon ECR with the controller's AWS workload identity) is refused.
	AmazonOCIProvider = "aws"
	// AzureOCIProvider (Azure Container Registry with the controller's Azure identity) is refused.
	AzureOCIProvider = "azure"
	// GoogleOCIProvider (Google Artifact Registry with the controller's GCP identity) is refused.
	GoogleOCIProvider = "gcp"
)

// Operations on the selected layer, for spec.layerSelector.operation.
const (
	// OCILayerExtract extracts the (tar+gzip) layer's files into the artifact.
	OCILayerExtract = "extract"
	// OCILayerCopy stores the layer's compressed content as the artifact, unchanged.
	OCILayerCopy = "copy"
)

// Signature verification providers, for spec.verify.provider.
const (
	// CosignVerificationProvider verifies Sigstore cosign signatures with public keys; keyless
	// signatures are refused.
	CosignVerificationProvider = "cosign"
	// NotationVerificationProvider (Notary Project signatures) is refused: this build verifies
	// only cosign signatures.
	NotationVerificationProvider = "notation"
)

// OCIRepositorySpec says which OCI artifact to pull, how often, and what to keep of it in the artifact.
type OCIRepositorySpec struct {
	// URL of the artifact's repository in a registry, e.g. `oci://ghcr.io/org/manifests`,
	// without tag or digest (those go in spec.ref).
	// +required
	// +kubebuilder:validation:Pattern="^oci://.+$"
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url"`

	// Reference to pull; the `latest` tag when empty.
	// +optional
	Reference *OCIRepositoryRef `json:"ref,omitempty"`

	// LayerSelector picks the layer to use; the first layer when empty.
	// +optional
	LayerSelector *OCILayerSelector `json:"layerSelector,omitempty"`

	// Provider of registry credentials: only `generic` (spec.secretRef or
	// spec.serviceAccountName). `aws`, `azure` and `gcp` (the controller's cloud workload
	// identity) are refused: this build cannot log in with them.
	// +optional
	// +kubebuilder:validation:Enum=generic;aws;azure;gcp
	// +kubebuilder:validation:XValidation:rule="self == 'generic'",message="spec.provider aws, azure and gcp (cloud workload identity) are not supported: use generic with spec.secretRef"
	// +kubebuilder:default=generic
	Provider string `json:"provider,omitempty"`

	// SecretRef names a Secret of type `kubernetes.io/dockerconfigjson` with registry credentials.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// Verify checks the artifact's signature; an unverified artifact never becomes the artifact in status.
	// +optional
	Verify *OCIRepositoryVerification `json:"verify,omitempty"`

	// ServiceAccountName names a ServiceAccount in this namespace whose image pull secrets are used
	// as registry credentials.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret with `ca.crt` to trust and/or `tls.crt` and `tls.key` for mutual TLS.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// ProxySecretRef names a Secret with the `address`, and optional `username` and `password`,
	// of an HTTP(S) proxy to reach the registry through.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Interval at which the registry is checked for a new revision.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval metav1.Duration `json:"interval"`

	// Timeout for registry operations such as pulling.
	// +optional
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Ignore overrides the default exclusion rules (gitignore syntax) applied to the extracted layer.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Insecure allows plain HTTP to the registry.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Suspend stops reconciliation; the existing artifact stays served.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// OCIRepositoryRef selects what to pull. When several are set, the first of digest, semver and tag wins.
// +kubebuilder:validation:XValidation:rule="!has(self.semverFilter) || has(self.semver)",message="spec.ref.semverFilter needs spec.ref.semver"
type OCIRepositoryRef struct {
	// Digest of the manifest to pull, `sha256:<64 hex>`.
	// +optional
	// +kubebuilder:validation:Pattern="^sha256:[a-f0-9]{64}$"
	Digest string `json:"digest,omitempty"`

	// SemVer range to pick the highest matching tag, e.g. `>=1.0.0 <2.0.0`.
	// +optional
	// +kubebuilder:validation:MaxLength=250
	SemVer string `json:"semver,omitempty"`

	// SemverFilter is a regular expression the tags must also match to be considered for spec.ref.semver.
	// +optional
	// +kubebuilder:validation:MaxLength=250
	SemverFilter string `json:"semverFilter,omitempty"`

	// Tag to pull.
	// +optional
	// +kubebuilder:validation:Pattern="^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$"
	Tag string `json:"tag,omitempty"`
}

// OCILayerSelector picks a layer of the OCI artifact and says what to do with it.
type OCILayerSelector struct {
	// MediaType of the layer to use; the first layer of that type is selected.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	MediaType string `json:"mediaType,omitempty"`

	// Operation: `extract` the layer's files into the artifact, or `copy` the compressed layer as is.
	// +optional
	// +kubebuilder:validation:Enum=extract;copy
	// +kubebuilder:default=extract
	Operation string `json:"operation,omitempty"`
}

// OCIRepositoryVerification configures signature verification of an OCI artifact.
// +kubebuilder:validation:XValidation:rule="!has(self.matchOIDCIdentity) || !has(self.provider) || self.provider == 'cosign'",message="spec.verify.matchOIDCIdentity is only supported with provider cosign"
// +kubebuilder:validation:XValidation:rule="!has(self.trustedRootSecretRef) || !has(self.provider) || self.provider == 'cosign'",message="spec.verify.trustedRootSecretRef is only supported with provider cosign"
// +kubebuilder:validation:XValidation:rule="!has(self.provider) || self.provider != 'notation' || has(self.secretRef)",message="spec.verify.secretRef is required with provider notation"
type OCIRepositoryVerification struct {
	// Provider is the signing technology: `cosign` (the default). `notation` is refused when
	// reconciled (Ready=False, VerificationFailed): this build verifies only cosign signatures.
	// +optional
	// +kubebuilder:validation:Enum=cosign;notation
	// +kubebuilder:default=cosign
	Provider string `json:"provider,omitempty"`

	// SecretRef names a Secret with the trusted cosign public keys (entries ending in `.pub`).
	// Required: keyless verification is not supported, and a spec.verify without it is refused
	// when reconciled (Ready=False, VerificationFailed).
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// MatchOIDCIdentity is for keyless cosign signatures, which this build does not verify:
	// setting it is refused when reconciled (Ready=False, VerificationFailed).
	// +optional
	// +kubebuilder:validation:MaxItems=32
	MatchOIDCIdentity []OIDCIdentityMatch `json:"matchOIDCIdentity,omitempty"`

	// TrustedRootSecretRef (a Sigstore `trusted_root.json` for keyless verification with
	// self-hosted Fulcio and Rekor) is refused when reconciled (Ready=False,
	// VerificationFailed): keyless verification is not supported.
	// +optional
	TrustedRootSecretRef *meta.LocalObjectReference `json:"trustedRootSecretRef,omitempty"`
}

// OIDCIdentityMatch would accept a keyless signature whose certificate's issuer and subject
// both match; keyless verification is not supported (see MatchOIDCIdentity).
type OIDCIdentityMatch struct {
	// Issuer is a Go regular expression the OIDC issuer must match.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Issuer string `json:"issuer"`

	// Subject is a Go regular expression the identity subject must match.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Subject string `json:"subject"`
}

// OCIRepositoryStatus is the observed state of an OCIRepository.
type OCIRepositoryStatus struct {
	// ObservedGeneration is the last generation the controller observed.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: see condition_types.go for each type's polarity.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL is where the newest artifact is served.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact is the newest artifact produced from the repository.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// ObservedIgnore is spec.ignore as of the artifact.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	// ObservedLayerSelector is spec.layerSelector as of the artifact.
	// +optional
	ObservedLayerSelector *OCILayerSelector `json:"observedLayerSelector,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// GetConditions returns the status conditions.
func (in *OCIRepository) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *OCIRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the interval at which the object is reconciled.
func (in *OCIRepository) GetRequeueAfter() metav1.Duration { return in.Spec.Interval }

// GetArtifact returns the newest artifact, or nil.
func (in *OCIRepository) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// GetLayerMediaType returns the media type of the layer to select, or "" for the first layer.
func (in *OCIRepository) GetLayerMediaType() string {
	if in.Spec.LayerSelector == nil {
		return ""
	}
	return in.Spec.LayerSelector.MediaType
}

// GetLayerOperation returns the operation on the selected layer; OCILayerExtract when unset.
func (in *OCIRepository) GetLayerOperation() string {
	if in.Spec.LayerSelector == nil || in.Spec.LayerSelector.Operation == "" {
		return OCILayerExtract
	}
	return in.Spec.LayerSelector.Operation
}

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ocirepo,categories=weir
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// OCIRepository turns an artifact in an OCI registry into a versioned artifact.
type OCIRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec OCIRepositorySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status OCIRepositoryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// OCIRepositoryList is a list of OCIRepositories.
type OCIRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OCIRepository `json:"items"`
}

func init() {
	SchemeBuilder.Register(&OCIRepository{}, &OCIRepositoryList{})
}
