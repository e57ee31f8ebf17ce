package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// GitRepositoryKind is the kind name of GitRepository.
const GitRepositoryKind = "GitRepository"

// GitRepositorySpec says which Git repository and reference to fetch, how often, and what to
// keep of it in the artifact.
type GitRepositorySpec struct {
	// URL of the repository: `https://`, `http://` or `ssh://`.
	// +required
	// +kubebuilder:validation:Pattern="^(http|https|ssh)://.+$"
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url"`

	// SecretRef names a Secret in this namespace with credentials: `username`/`password` or
	// `bearerToken` for HTTPS; `identity` (private key), optional `password` (passphrase) and
	// `known_hosts` for SSH; `ca.crt`, `tls.crt` and `tls.key` for a custom CA or mTLS.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ProxySecretRef names a Secret with the `address`, and optional `username` and `password`,
	// of an HTTP(S) proxy to reach the repository through.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Interval at which the remote is checked for a new revision.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval metav1.Duration `json:"interval"`

	// Timeout for Git operations such as cloning.
	// +optional
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Reference to check out; the remote's default branch when empty.
	// +optional
	Reference *GitRepositoryRef `json:"ref,omitempty"`

	// Verification of the OpenPGP or SSH signature of the HEAD commit and/or the tag.
	// An unverified revision never becomes the artifact.
	// +optional
	Verification *GitRepositoryVerification `json:"verify,omitempty"`

	// Ignore overrides the default exclusion rules (gitignore syntax). `.sourceignore` files in
	// the repository are applied as well.
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops reconciliation; the existing artifact stays served.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// RecurseSubmodules also clones the submodules (http(s) and ssh URLs only). spec.secretRef's
	// credentials go only to submodules on spec.url's scheme, host and port; others are fetched
	// without credentials (ssh ones on another host are refused).
	// +optional
	RecurseSubmodules bool `json:"recurseSubmodules,omitempty"`

	// Include copies other GitRepositories' artifacts into this one.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	Include []GitRepositoryInclude `json:"include,omitempty"`

	// SparseCheckout lists directories to keep in the artifact; everything else is left out.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.all(p, !p.startsWith('/') && !p.split('/').exists(s, s == '..'))",message="spec.sparseCheckout paths must be relative and stay inside the repository"
	SparseCheckout []string `json:"sparseCheckout,omitempty"`
}

// GitRepositoryRef selects what to check out. Precedence: commit, name, semver, tag, branch.
// +kubebuilder:validation:XValidation:rule="[has(self.tag), has(self.semver), has(self.name), has(self.commit)].filter(x, x).size() <= 1",message="at most one of spec.ref.tag, spec.ref.semver, spec.ref.name and spec.ref.commit may be set"
// +kubebuilder:validation:XValidation:rule="!has(self.branch) || !(has(self.tag) || has(self.semver) || has(self.name))",message="spec.ref.branch can only be combined with spec.ref.commit"
type GitRepositoryRef struct {
	// Branch to check out, e.g. `main`.
	// +optional
	// +kubebuilder:validation:MaxLength=250
	Branch string `json:"branch,omitempty"`

	// Tag to check out.
	// +optional
	// +kubebuilder:validation:MaxLength=250
	Tag string `json:"tag,omitempty"`

	// SemVer range to pick the highest matching tag, e.g. `>=1.0.0 <2.0.0`.
	// +optional
	// +kubebuilder:validation:MaxLength=250
	SemVer string `json:"semver,omitempty"`

	// Name of any reference, e.g. `refs/heads/main`, `refs/tags/v1.0.0` or `refs/pull/1/head`.
	// +optional
	// +kubebuilder:validation:Pattern="^refs/.+$"
	// +kubebuilder:validation:MaxLength=250
	Name string `json:"name,omitempty"`

	// Commit SHA to check out; combined with branch, the branch is cloned shallowly and the commit
	// must exist in it.
	// +optional
	// +kubebuilder:validation:Pattern="^([0-9a-f]{40}|[0-9a-f]{64})$"
	Commit string `json:"commit,omitempty"`
}

// GitVerificationMode says which objects' signatures to verify.
// +kubebuilder:validation:Enum=HEAD;Tag;TagAndHEAD
type GitVerificationMode string

const (
	// ModeGitHEAD verifies the signature of the commit HEAD points at.
	ModeGitHEAD GitVerificationMode = "HEAD"
	// ModeGitTag verifies the signature of the tag.
	ModeGitTag GitVerificationMode = "Tag"
	// ModeGitTagAndHEAD verifies the tag and the commit it points at.
	ModeGitTagAndHEAD GitVerificationMode = "TagAndHEAD"
)

// GitRepositoryVerification configures signature verification: OpenPGP, or SSH (git's
// gpg.format=ssh, OpenSSH's sshsig format with namespace "git").
type GitRepositoryVerification struct {
	// Mode says what to verify; `HEAD` when empty.
	// +optional
	// +kubebuilder:default=HEAD
	Mode GitVerificationMode `json:"mode,omitempty"`

	// SecretRef names a Secret whose values are armored OpenPGP public keys, or SSH public
	// keys in authorized_keys format (one or more lines per value); a signature by any of them
	// verifies.
	// +required
	SecretRef meta.LocalObjectReference `json:"secretRef"`
}

// GitRepositoryInclude copies a path of another GitRepository's artifact into this one.
type GitRepositoryInclude struct {
	// GitRepositoryRef names the GitRepository, in this namespace, to include.
	// +required
	GitRepositoryRef meta.LocalObjectReference `json:"repository"`

	// FromPath is the directory of the included artifact to copy; the root when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(s, s == '..')",message="fromPath must be relative and stay inside the included artifact"
	FromPath string `json:"fromPath,omitempty"`

	// ToPath is the directory of this artifact to copy into; the included object's name when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(s, s == '..')",message="toPath must be relative and stay inside the artifact"
	ToPath string `json:"toPath,omitempty"`
}

// GitRepositoryStatus is the observed state of a GitRepository.
type GitRepositoryStatus struct {
	// ObservedGeneration is the last generation the controller observed.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: see condition_types.go for each type's polarity.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Artifact is the newest artifact produced from the repository.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// IncludedArtifacts are the artifacts of the included GitRepositories that went into Artifact.
	// +optional
	IncludedArtifacts []*meta.Artifact `json:"includedArtifacts,omitempty"`

	// ObservedIgnore is spec.ignore as of the artifact.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	// ObservedRecurseSubmodules is spec.recurseSubmodules as of the artifact.
	// +optional
	ObservedRecurseSubmodules bool `json:"observedRecurseSubmodules,omitempty"`

	// ObservedInclude is spec.include as of the artifact.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	ObservedInclude []GitRepositoryInclude `json:"observedInclude,omitempty"`

	// ObservedSparseCheckout is spec.sparseCheckout as of the artifact.
	// +optional
	ObservedSparseCheckout []string `json:"observedSparseCheckout,omitempty"`

	// SourceVerificationMode is the verification mode the artifact was verified with.
	// +optional
	SourceVerificationMode *GitVerificationMode `json:"sourceVerificationMode,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// GetConditions returns the status conditions.
func (in *GitRepository) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *GitRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the interval at which the object is reconciled.
func (in *GitRepository) GetRequeueAfter() metav1.Duration { return in.Spec.Interval }

// GetArtifact returns the newest artifact, or nil.
func (in *GitRepository) GetArtifact() *meta.Artifact { return in.Status.Artifact }

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=gitrepo,categories=weir
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:validation:XValidation:rule="!has(self.spec) || !has(self.spec.include) || self.spec.include.all(i, i.repository.name != self.metadata.name)",message="spec.include must not include the GitRepository itself"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// GitRepository turns a Git repository at a reference into a versioned artifact.
type GitRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec GitRepositorySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status GitRepositoryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// GitRepositoryList is a list of GitRepositories.
type GitRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitRepository `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GitRepository{}, &GitRepositoryList{})
}
