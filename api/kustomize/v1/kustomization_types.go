package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// KustomizationKind is the kind name of Kustomization.
const KustomizationKind = "Kustomization"

// KustomizationSpec says which source artifact path to build with kustomize, how to transform
// the result, and how to apply, prune and health-check it.
type KustomizationSpec struct {
	// SourceRef names the source whose artifact holds the manifests.
	// +required
	SourceRef CrossNamespaceSourceReference `json:"sourceRef"`

	// Path is the directory in the artifact with the kustomization.yaml, or with plain
	// manifests for which one is generated; the artifact root when empty. It must be relative
	// and stay inside the artifact.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(s, s == '..')",message="spec.path must be relative and must not contain '..' segments"
	Path string `json:"path,omitempty"`

	// Interval at which the Kustomization is reconciled, which also corrects drift.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval metav1.Duration `json:"interval"`

	// RetryInterval is the longest wait before a failed reconciliation is retried: retries
	// start within a second and back off exponentially up to it (and to the controller's
	// --max-retry-delay); Interval when empty.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`

	// Timeout for building, applying and health-checking; Interval minus 30s (at least 30s)
	// when empty.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// DependsOn lists Kustomizations or HelmReleases that must be Ready before this one is
	// reconciled. Entries without a kind name a Kustomization, so Flux manifests apply unchanged.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	DependsOn []DependencyReference `json:"dependsOn,omitempty"`

	// Prune deletes objects that were applied before and are no longer in the desired set.
	// Only objects whose ownership labels point at this Kustomization are deleted.
	// +required
	Prune bool `json:"prune"`

	// AllowEmptyPrune lets prune delete every object of the previous inventory when the new
	// desired set is empty (for instance after the path was emptied by mistake). Without it,
	// such a reconciliation fails with ApplyFailed/EmptyPruneRefused and deletes nothing.
	// It has no effect unless Prune is set. Weir addition.
	// +optional
	AllowEmptyPrune bool `json:"allowEmptyPrune,omitempty"`

	// DeletionPolicy says what happens to the applied objects when the Kustomization is
	// deleted: `MirrorPrune` deletes them if Prune is set, `Delete` always deletes them,
	// `WaitForTermination` deletes them and waits until they are gone, `Orphan` leaves them.
	// +optional
	// +kubebuilder:default=MirrorPrune
	// +kubebuilder:validation:Enum=MirrorPrune;Delete;WaitForTermination;Orphan
	DeletionPolicy string `json:"deletionPolicy,omitempty"`

	// Wait checks the health of every applied object; HealthChecks is then ignored.
	// +optional
	Wait bool `json:"wait,omitempty"`

	// HealthChecks lists objects whose health gates Ready.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	HealthChecks []meta.NamespacedObjectKindReference `json:"healthChecks,omitempty"`

	// HealthCheckExprs give CEL expressions to assess the health of kinds kstatus does not
	// understand.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	HealthCheckExprs []CustomHealthCheck `json:"healthCheckExprs,omitempty"`

	// Force recreates objects whose update fails because of an immutable field.
	// +optional
	// +kubebuilder:default=false
	Force bool `json:"force,omitempty"`

	// Suspend stops reconciliation; applied objects are left as they are.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// TargetNamespace sets the namespace of every namespaced object built.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// NamePrefix is prepended to the name of every object built.
	// +optional
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern="^[a-z0-9][-a-z0-9.]*$"
	NamePrefix string `json:"namePrefix,omitempty"`

	// NameSuffix is appended to the name of every object built.
	// +optional
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern="^[-a-z0-9.]*[a-z0-9]$"
	NameSuffix string `json:"nameSuffix,omitempty"`

	// CommonMetadata holds labels and annotations set on every object built.
	// +optional
	CommonMetadata *meta.CommonMetadata `json:"commonMetadata,omitempty"`

	// Patches are applied to the objects built, in order.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	Patches []meta.Patch `json:"patches,omitempty"`

	// Images rewrite container image names, tags and digests.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	Images []meta.Image `json:"images,omitempty"`

	// Components are kustomize components to include, relative to Path.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.all(c, !c.startsWith('/'))",message="spec.components must be relative paths"
	Components []string `json:"components,omitempty"`

	// IgnoreMissingComponents skips components that do not exist instead of failing.
	// +optional
	IgnoreMissingComponents bool `json:"ignoreMissingComponents,omitempty"`

	// PostBuild substitutes variables in the objects built.
	// +optional
	PostBuild *PostBuild `json:"postBuild,omitempty"`

	// Decryption decrypts SOPS-encrypted values before applying.
	// +optional
	Decryption *Decryption `json:"decryption,omitempty"`

	// ServiceAccountName is the ServiceAccount, in this namespace, to impersonate when
	// applying, pruning and health-checking.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// KubeConfig targets a remote cluster instead of this one; combined with
	// ServiceAccountName, that account is impersonated on the remote cluster.
	// +optional
	KubeConfig *meta.KubeConfigReference `json:"kubeConfig,omitempty"`

	// Gate: spec.approval, spec.driftApproval, spec.syncWindows and spec.selfHeal.
	meta.Gate `json:",inline"`
}

// DependencyReference names a Kustomization or HelmRelease that must be Ready first.
// Weir addition: Flux accepts only Kustomizations (name, namespace and readyExpr).
// +kubebuilder:validation:XValidation:rule="!has(self.apiVersion) || (self.kind == 'Kustomization' && self.apiVersion == 'kustomize.weir.dev/v1') || (self.kind == 'HelmRelease' && self.apiVersion == 'helm.weir.dev/v1')",message="spec.dependsOn: apiVersion must be kustomize.weir.dev/v1 for a Kustomization and helm.weir.dev/v1 for a HelmRelease"
type DependencyReference struct {
	// APIVersion of the dependency; the kind's version when empty.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the dependency.
	// +optional
	// +kubebuilder:default=Kustomization
	// +kubebuilder:validation:Enum=Kustomization;HelmRelease
	Kind string `json:"kind,omitempty"`

	// Name of the dependency.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the dependency; the Kustomization's namespace when empty.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`

	// ReadyExpr is a CEL expression that decides whether the dependency is ready, in place of
	// the default (Ready=True at its latest generation). It sees the dependency as `dep` and
	// this Kustomization as `self`, and must return a bool; an expression that does not compile
	// stalls the Kustomization.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	ReadyExpr string `json:"readyExpr,omitempty"`
}

// CrossNamespaceSourceReference names the source of a Kustomization.
type CrossNamespaceSourceReference struct {
	// APIVersion of the source; `source.weir.dev/v1` when empty.
	// +optional
	// +kubebuilder:validation:Pattern="^source\\.weir\\.dev/v[0-9a-z]+$"
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the source.
	// +required
	// +kubebuilder:validation:Enum=GitRepository;OCIRepository;ExternalArtifact
	Kind string `json:"kind"`

	// Name of the source.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the source; the Kustomization's namespace when empty.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// CustomHealthCheck assesses the health of objects of one kind with CEL expressions over the
// object. The first expression that evaluates to true decides: failed, then current, then
// inProgress; none true means in progress.
type CustomHealthCheck struct {
	// APIVersion of the objects, e.g. `cert-manager.io/v1`.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	APIVersion string `json:"apiVersion"`

	// Kind of the objects.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`

	// Current is true when the object is healthy.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Current string `json:"current"`

	// InProgress is true while the object is still progressing.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	InProgress string `json:"inProgress,omitempty"`

	// Failed is true when the object has failed.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Failed string `json:"failed,omitempty"`
}

// PostBuild substitutes `${var}` references in the objects built. Objects annotated
// `kustomize.weir.dev/substitute: disabled` are left alone.
type PostBuild struct {
	// Substitute maps variable names to values. Takes precedence over SubstituteFrom.
	// +optional
	// +kubebuilder:validation:MaxProperties=1024
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[_a-zA-Z][_a-zA-Z0-9]*$'))",message="spec.postBuild.substitute keys must be variable names: letters, digits and '_', not starting with a digit"
	Substitute map[string]string `json:"substitute,omitempty"`

	// SubstituteFrom reads variables from ConfigMaps and Secrets in this namespace; later
	// entries override earlier ones.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	SubstituteFrom []SubstituteReference `json:"substituteFrom,omitempty"`
}

// SubstituteReference names a ConfigMap or Secret whose data keys are variable names.
type SubstituteReference struct {
	// Kind of the object.
	// +required
	// +kubebuilder:validation:Enum=ConfigMap;Secret
	Kind string `json:"kind"`

	// Name of the object, in the Kustomization's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Optional treats a missing object as empty instead of failing.
	// +optional
	// +kubebuilder:default=false
	Optional bool `json:"optional,omitempty"`
}

// Decryption configures decryption of SOPS-encrypted values.
type Decryption struct {
	// Provider is the decryption engine.
	// +required
	// +kubebuilder:validation:Enum=sops
	Provider string `json:"provider"`

	// SecretRef names a Secret in this namespace with the private keys: entries ending in
	// `.agekey` (age identities) and `.asc` (armored OpenPGP keys without a passphrase).
	// Required to decrypt. Cloud KMS (AWS, Azure, GCP, Vault) is not supported.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`
}

// DeletionPolicy values.
const (
	// DeletionPolicyMirrorPrune deletes the applied objects on deletion only if Prune is set.
	DeletionPolicyMirrorPrune = "MirrorPrune"
	// DeletionPolicyDelete always deletes the applied objects on deletion.
	DeletionPolicyDelete = "Delete"
	// DeletionPolicyWaitForTermination deletes the applied objects and waits until they are gone.
	DeletionPolicyWaitForTermination = "WaitForTermination"
	// DeletionPolicyOrphan leaves the applied objects in place on deletion.
	DeletionPolicyOrphan = "Orphan"
)

// GetConditions returns the status conditions.
func (in *Kustomization) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Kustomization) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the interval at which the object is reconciled.
func (in *Kustomization) GetRequeueAfter() metav1.Duration { return in.Spec.Interval }

// GetRetryInterval returns spec.retryInterval, or spec.interval when it is empty.
func (in *Kustomization) GetRetryInterval() time.Duration {
	if in.Spec.RetryInterval != nil {
		return in.Spec.RetryInterval.Duration
	}
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout when set; otherwise spec.interval minus 30s, and never less
// than 30s.
func (in *Kustomization) GetTimeout() time.Duration {
	if in.Spec.Timeout != nil && in.Spec.Timeout.Duration > 0 {
		return in.Spec.Timeout.Duration
	}
	return max(in.Spec.Interval.Duration-30*time.Second, 30*time.Second)
}

// GetDeletionPolicy returns spec.deletionPolicy, or MirrorPrune when it is empty.
func (in *Kustomization) GetDeletionPolicy() string {
	if in.Spec.DeletionPolicy == "" {
		return DeletionPolicyMirrorPrune
	}
	return in.Spec.DeletionPolicy
}

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ks,categories=weir
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.lastAppliedRevision`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:validation:XValidation:rule="!has(self.spec) || !has(self.spec.dependsOn) || !self.spec.dependsOn.exists(d, d.name == self.metadata.name && (!has(d.kind) || d.kind == 'Kustomization') && !has(d.namespace))",message="spec.dependsOn: a Kustomization cannot depend on itself"

// Kustomization builds a path of a source artifact with kustomize and applies the result to
// the cluster with server-side apply, pruning what it applied before and no longer builds.
type Kustomization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec KustomizationSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status KustomizationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// KustomizationList is a list of Kustomizations.
type KustomizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Kustomization `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Kustomization{}, &KustomizationList{})
}
