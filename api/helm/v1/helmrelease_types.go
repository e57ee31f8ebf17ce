package v1

import (
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// HelmReleaseKind is the kind name of HelmRelease.
const HelmReleaseKind = "HelmRelease"

// DefaultMaxHistory is the number of Helm release revisions kept when spec.maxHistory is unset.
const DefaultMaxHistory = 5

// HelmReleaseSpec says which chart to release with which values, and how to install, upgrade,
// test, remediate and uninstall it.
// +kubebuilder:validation:XValidation:rule="has(self.chart) != has(self.chartRef)",message="spec: exactly one of chart and chartRef must be set"
type HelmReleaseSpec struct {
	// Chart is the template of the HelmChart the controller creates, in the source's
	// namespace, for this release.
	// +optional
	Chart *HelmChartTemplate `json:"chart,omitempty"`

	// ChartRef names an existing OCIRepository, HelmChart or ExternalArtifact whose artifact is
	// the chart.
	// +optional
	ChartRef *CrossNamespaceSourceReference `json:"chartRef,omitempty"`

	// Interval at which the release is reconciled, which also detects drift.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval metav1.Duration `json:"interval"`

	// KubeConfig targets a remote cluster instead of this one; combined with
	// ServiceAccountName, that account is impersonated on the remote cluster.
	// +optional
	KubeConfig *meta.KubeConfigReference `json:"kubeConfig,omitempty"`

	// Suspend stops reconciliation; the release is left as it is.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// ReleaseName is the Helm release name; `[<targetNamespace>-]<name>` when empty.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=53
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
	ReleaseName string `json:"releaseName,omitempty"`

	// TargetNamespace is the namespace the release is installed into; the HelmRelease's
	// namespace when empty.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// StorageNamespace is the namespace of the Helm release storage (Secrets); the
	// HelmRelease's namespace when empty.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
	StorageNamespace string `json:"storageNamespace,omitempty"`

	// DependsOn lists HelmReleases or Kustomizations that must be Ready before this release is
	// reconciled. Entries without a kind name a HelmRelease, so Flux manifests apply unchanged.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	DependsOn []DependencyReference `json:"dependsOn,omitempty"`

	// Timeout for each Kubernetes operation of a Helm action (hooks, waiting); actions may
	// override it.
	// +optional
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// MaxHistory is the number of release revisions Helm keeps; 0 keeps all.
	// +optional
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=0
	MaxHistory *int `json:"maxHistory,omitempty"`

	// ServiceAccountName is the ServiceAccount, in this namespace, to impersonate for every
	// Helm action.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// PersistentClient, true when unset, reuses one Kubernetes client, with its cached API
	// discovery, for every Helm action of a reconciliation (and of other releases acting as the
	// same identity). False discovers the API afresh each time Helm builds objects: set it for
	// charts whose templates create CRDs that their hooks then use.
	// +optional
	PersistentClient *bool `json:"persistentClient,omitempty"`

	// DriftDetection compares the cluster with the release manifest. Weir enables it by default
	// (Flux disables it): set mode `disabled` to turn it off.
	// +optional
	// +kubebuilder:default={"mode":"enabled"}
	DriftDetection *DriftDetection `json:"driftDetection,omitempty"`

	// Install configures Helm install actions.
	// +optional
	Install *Install `json:"install,omitempty"`

	// Upgrade configures Helm upgrade actions.
	// +optional
	Upgrade *Upgrade `json:"upgrade,omitempty"`

	// Test configures Helm test actions.
	// +optional
	Test *Test `json:"test,omitempty"`

	// Rollback configures Helm rollback actions.
	// +optional
	Rollback *Rollback `json:"rollback,omitempty"`

	// Uninstall configures Helm uninstall actions.
	// +optional
	Uninstall *Uninstall `json:"uninstall,omitempty"`

	// ValuesFrom reads values from ConfigMaps and Secrets, merged in order, before Values.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	ValuesFrom []ValuesReference `json:"valuesFrom,omitempty"`

	// Values are merged last, over the chart's values and ValuesFrom.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Values *apiextensionsv1.JSON `json:"values,omitempty"`

	// PostRenderers transform the rendered manifests, in order, before they are applied.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	PostRenderers []PostRenderer `json:"postRenderers,omitempty"`

	// CommonMetadata holds labels and annotations set on every object of the release.
	// +optional
	CommonMetadata *meta.CommonMetadata `json:"commonMetadata,omitempty"`

	// Gate: spec.approval, spec.driftApproval, spec.syncWindows and spec.selfHeal.
	meta.Gate `json:",inline"`
}

// DependencyReference names a HelmRelease or Kustomization that must be Ready first.
// Weir addition: Flux accepts only HelmReleases (name and namespace).
// +kubebuilder:validation:XValidation:rule="!has(self.apiVersion) || (self.kind == 'HelmRelease' && self.apiVersion == 'helm.weir.dev/v1') || (self.kind == 'Kustomization' && self.apiVersion == 'kustomize.weir.dev/v1')",message="spec.dependsOn: apiVersion must be helm.weir.dev/v1 for a HelmRelease and kustomize.weir.dev/v1 for a Kustomization"
type DependencyReference struct {
	// APIVersion of the dependency; the kind's version when empty.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the dependency.
	// +optional
	// +kubebuilder:default=HelmRelease
	// +kubebuilder:validation:Enum=HelmRelease;Kustomization
	Kind string `json:"kind,omitempty"`

	// Name of the dependency.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the dependency; the HelmRelease's namespace when empty.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`

	// ReadyExpr is a CEL expression that decides whether the dependency is ready, in place of
	// the default (Ready=True at its latest generation). It sees the dependency as `dep` and
	// this HelmRelease as `self`, and must return a bool; an expression that does not compile
	// stalls the HelmRelease.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	ReadyExpr string `json:"readyExpr,omitempty"`
}

// ValuesReference names a ConfigMap or Secret key holding values.
type ValuesReference struct {
	// Kind of the object.
	// +required
	// +kubebuilder:validation:Enum=ConfigMap;Secret
	Kind string `json:"kind"`

	// Name of the object, in the HelmRelease's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// ValuesKey is the data key holding the values; `values.yaml` when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern="^[\\-._a-zA-Z0-9]+$"
	ValuesKey string `json:"valuesKey,omitempty"`

	// TargetPath, when set, puts the key's whole content (not parsed as YAML) at this dotted
	// path of the values, e.g. `a.b[0].c`.
	// +optional
	// +kubebuilder:validation:MaxLength=250
	// +kubebuilder:validation:Pattern="^([a-zA-Z0-9_\\-.\\\\\\/]|\\[[0-9]{1,5}\\])+$"
	TargetPath string `json:"targetPath,omitempty"`

	// Optional treats a missing object or key as empty instead of failing.
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// PostRenderer transforms rendered manifests.
type PostRenderer struct {
	// Kustomize applies patches and image rewrites.
	// +optional
	Kustomize *Kustomize `json:"kustomize,omitempty"`
}

// Kustomize is a kustomize post-renderer.
type Kustomize struct {
	// Patches are applied to the rendered objects, in order.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	Patches []meta.Patch `json:"patches,omitempty"`

	// Images rewrite container image names, tags and digests.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	Images []meta.Image `json:"images,omitempty"`
}

// DriftDetection configures how differences between the release manifest and the cluster
// are handled.
type DriftDetection struct {
	// Mode is `enabled` (detect and correct by applying the drifted objects of the release
	// again), `warn` (detect and report only) or `disabled`. Weir's default is `enabled`.
	// +optional
	// +kubebuilder:default=enabled
	// +kubebuilder:validation:Enum=enabled;warn;disabled
	Mode DriftDetectionMode `json:"mode,omitempty"`

	// Ignore lists fields to leave out of the comparison.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Ignore []IgnoreRule `json:"ignore,omitempty"`
}

// DriftDetectionMode is the drift detection mode.
type DriftDetectionMode string

// Drift detection modes.
const (
	// DriftDetectionEnabled detects drift and corrects it by server-side applying the drifted
	// objects of the release manifest again (no new Helm revision, no hooks).
	DriftDetectionEnabled DriftDetectionMode = "enabled"
	// DriftDetectionWarn detects drift and reports it without correcting it.
	DriftDetectionWarn DriftDetectionMode = "warn"
	// DriftDetectionDisabled does not look for drift.
	DriftDetectionDisabled DriftDetectionMode = "disabled"
)

// IgnoreRule leaves fields out of drift detection.
type IgnoreRule struct {
	// Paths are JSON Pointers (RFC 6901), e.g. `/spec/replicas`.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	// +kubebuilder:validation:items:Pattern="^(/([^~/]|~[01])*)+$"
	Paths []string `json:"paths"`

	// Target selects the objects the rule applies to; every object of the release when empty.
	// +optional
	Target *meta.Selector `json:"target,omitempty"`
}

// GetConditions returns the status conditions.
func (in *HelmRelease) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *HelmRelease) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the interval at which the object is reconciled.
func (in *HelmRelease) GetRequeueAfter() metav1.Duration { return in.Spec.Interval }

// GetTimeout returns spec.timeout, or 5m when it is unset.
func (in *HelmRelease) GetTimeout() time.Duration {
	if in.Spec.Timeout == nil {
		return 5 * time.Minute
	}
	return in.Spec.Timeout.Duration
}

// GetReleaseName returns spec.releaseName, or `[<targetNamespace>-]<name>`.
func (in *HelmRelease) GetReleaseName() string {
	if in.Spec.ReleaseName != "" {
		return in.Spec.ReleaseName
	}
	if in.Spec.TargetNamespace != "" {
		return strings.Join([]string{in.Spec.TargetNamespace, in.Name}, "-")
	}
	return in.Name
}

// GetReleaseNamespace returns spec.targetNamespace, or the HelmRelease's namespace.
func (in *HelmRelease) GetReleaseNamespace() string {
	if in.Spec.TargetNamespace != "" {
		return in.Spec.TargetNamespace
	}
	return in.Namespace
}

// GetStorageNamespace returns spec.storageNamespace, or the HelmRelease's namespace.
func (in *HelmRelease) GetStorageNamespace() string {
	if in.Spec.StorageNamespace != "" {
		return in.Spec.StorageNamespace
	}
	return in.Namespace
}

// GetMaxHistory returns spec.maxHistory, or DefaultMaxHistory when it is unset.
func (in *HelmRelease) GetMaxHistory() int {
	if in.Spec.MaxHistory == nil {
		return DefaultMaxHistory
	}
	return *in.Spec.MaxHistory
}

// UsePersistentClient returns spec.persistentClient, true when it is unset.
func (in *HelmRelease) UsePersistentClient() bool {
	return in.Spec.PersistentClient == nil || *in.Spec.PersistentClient
}

// GetDriftDetectionMode returns spec.driftDetection.mode, `enabled` when it is unset.
func (in *HelmRelease) GetDriftDetectionMode() DriftDetectionMode {
	if in.Spec.DriftDetection == nil || in.Spec.DriftDetection.Mode == "" {
		return DriftDetectionEnabled
	}
	return in.Spec.DriftDetection.Mode
}

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hr,categories=weir
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.lastAttemptedRevision`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:validation:XValidation:rule="!has(self.spec) || !has(self.spec.dependsOn) || !self.spec.dependsOn.exists(d, d.name == self.metadata.name && (!has(d.kind) || d.kind == 'HelmRelease') && !has(d.namespace))",message="spec.dependsOn: a HelmRelease cannot depend on itself"

// HelmRelease installs a Helm chart as a release and keeps it upgraded, tested, remediated
// and free of drift; deleting it uninstalls the release.
type HelmRelease struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HelmReleaseSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status HelmReleaseStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// HelmReleaseList is a list of HelmReleases.
type HelmReleaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HelmRelease `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HelmRelease{}, &HelmReleaseList{})
}
