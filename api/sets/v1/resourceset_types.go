package v1

import (
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// ResourceSetKind is the kind name of ResourceSet.
const ResourceSetKind = "ResourceSet"

// Labels and annotations on generated objects.
const (
	// OwnerNameLabel and OwnerNamespaceLabel name the ResourceSet that generated an object; an
	// object they name another owner for is never taken.
	OwnerNameLabel      = "sets.weir.dev/name"
	OwnerNamespaceLabel = "sets.weir.dev/namespace"
	// InputAnnotation names the input an object was rendered for.
	InputAnnotation = "sets.weir.dev/input"
)

// ResourceSetSpec says where the inputs come from, what each renders to, and how a change
// reaches the generated objects.
type ResourceSetSpec struct {
	// SourceRef names the source whose artifact the directories and files generators read.
	// +optional
	SourceRef *SourceReference `json:"sourceRef,omitempty"`

	// Generators produce the inputs, one template rendering each. Their inputs are
	// concatenated; two inputs with the same name are an error.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Generators []Generator `json:"generators"`

	// Template is a Go text/template rendering one or more YAML documents per input. The input
	// is the dot (`{{ .name }}`); a missing key is an error. Functions: default, quote, lower,
	// upper, title, trim, replace, trimPrefix, trimSuffix, toYaml, toJson, indent, nindent,
	// required, plus Go's builtins. No environment, files or network.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=65536
	Template string `json:"template"`

	// Strategy says how a change of the rendered objects is rolled out: in steps that stop on
	// failure. Without it every changed input is applied at once (one step).
	// +optional
	Strategy *Strategy `json:"strategy,omitempty"`

	// Prune deletes the objects of inputs that disappeared. Without it they are left in place
	// and no longer tracked.
	// +required
	Prune bool `json:"prune"`

	// Interval at which the set is reconciled.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval metav1.Duration `json:"interval"`

	// Timeout for fetching the artifact and applying; and how long a step's objects may take
	// to become Ready before those that are not count as failed. Interval when empty.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// ServiceAccountName is the ServiceAccount, in the set's namespace, the generated objects
	// are applied and pruned as.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Suspend stops reconciliation; generated objects are left as they are.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// SourceReference names a GitRepository or OCIRepository.
type SourceReference struct {
	// Kind of the source.
	// +required
	// +kubebuilder:validation:Enum=GitRepository;OCIRepository
	Kind string `json:"kind"`

	// Name of the source.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the source; the set's when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// InputGenerator produces inputs from one place. Exactly one field is set (the controller
// checks it: CEL cannot see a list of free-form objects).
type InputGenerator struct {
	// List gives the inputs literally, each a JSON object. An input's `name` (a string) names
	// it in status; `list[<index>]` when it has none.
	// +optional
	// +kubebuilder:validation:MaxItems=1000
	List []apiextensionsv1.JSON `json:"list,omitempty"`

	// Directories makes one input per directory of the source artifact that matches.
	// +optional
	Directories *PathGenerator `json:"directories,omitempty"`

	// Files makes one input per YAML or JSON file of the source artifact that matches: the
	// file's object, or each object of a file holding a list.
	// +optional
	Files *PathGenerator `json:"files,omitempty"`
}

// Generator is an InputGenerator, or a matrix of two. Exactly one field is set.
type Generator struct {
	// List gives the inputs literally, each a JSON object.
	// +optional
	// +kubebuilder:validation:MaxItems=1000
	List []apiextensionsv1.JSON `json:"list,omitempty"`

	// Directories makes one input per matching directory of the source artifact.
	// +optional
	Directories *PathGenerator `json:"directories,omitempty"`

	// Files makes one input per object of the matching YAML or JSON files of the artifact.
	// +optional
	Files *PathGenerator `json:"files,omitempty"`

	// Matrix makes one input per pair of inputs of its two generators, their keys merged (the
	// second's win).
	// +optional
	Matrix *MatrixGenerator `json:"matrix,omitempty"`
}

// PathGenerator matches paths of the source artifact. Each input has `path` (relative to the
// artifact root), `basename` and `segments` (the path split at '/'), unless a file sets them.
type PathGenerator struct {
	// Paths are globs relative to the artifact root (`*` matches within one segment), e.g.
	// `teams/*/production`; one leaving the root is refused.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=1024
	Paths []string `json:"paths"`

	// Exclude are globs of paths to leave out.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=1024
	Exclude []string `json:"exclude,omitempty"`
}

// MatrixGenerator combines two generators.
type MatrixGenerator struct {
	// Generators are the two generators combined.
	// +required
	// +kubebuilder:validation:MinItems=2
	// +kubebuilder:validation:MaxItems=2
	Generators []InputGenerator `json:"generators"`
}

// Strategy rolls a change out in steps.
type Strategy struct {
	// Steps partition the inputs, in order: an input belongs to the first step whose selector
	// matches the labels of one of its objects, or that takes it by percentage (inputs in name
	// order). Inputs no step takes form a last step. A step starts when every object of the
	// steps before it is Ready at its new spec.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Steps []Step `json:"steps"`
}

// Step is one stage of a rollout.
// +kubebuilder:validation:XValidation:rule="!(has(self.selector) && has(self.percentage))",message="set selector or percentage, not both"
type Step struct {
	// Name names the step in status and events; `step-<n>` when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name,omitempty"`

	// Selector takes the inputs one of whose objects has matching labels.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// Percentage takes this share of all inputs (rounded up), from those no earlier step took.
	// With neither selector nor percentage the step takes every input left.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Percentage *int32 `json:"percentage,omitempty"`

	// MaxUnavailable is how many of the step's inputs are changed at once: the next is applied
	// when one of them is Ready. All at once when empty.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxUnavailable *int32 `json:"maxUnavailable,omitempty"`

	// FailureThreshold is how many of the step's inputs may fail (an object Ready=False at its
	// new spec, or not Ready within spec.timeout) before the rollout stops at this step.
	// +optional
	// +kubebuilder:validation:Minimum=0
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
}

// ResourceSetStatus is the observed state of a ResourceSet.
type ResourceSetStatus struct {
	// ObservedGeneration is the generation last reconciled.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, and the negative ones of condition_types.go.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastAttemptedRevision is the revision last rendered: the source's, and the template's digest.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// LastAppliedRevision is the revision every step reached Ready at.
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// Inventory lists every generated object the set owns.
	// +optional
	Inventory *meta.ResourceInventory `json:"inventory,omitempty"`

	// Inputs are the inputs, in name order, with what was last applied for each.
	// +optional
	Inputs []InputStatus `json:"inputs,omitempty"`

	// Rollout says which step the rollout of the current revision is at.
	// +optional
	Rollout *RolloutStatus `json:"rollout,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// InputStatus is what the set last did for one input.
type InputStatus struct {
	// Name identifies the input: a directory or file path, a list entry's name, or a matrix
	// pair's names joined with '+'.
	Name string `json:"name"`

	// Step is the index of the step the input belongs to.
	Step int32 `json:"step"`

	// Digest is the digest of the objects last applied for the input; empty before the first.
	// +optional
	Digest string `json:"digest,omitempty"`

	// Objects are the inventory IDs of the objects last applied for the input.
	// +optional
	Objects []string `json:"objects,omitempty"`

	// Error says why the input did not render or apply, naming the template line.
	// +optional
	Error string `json:"error,omitempty"`
}

// RolloutStatus is where the rollout of the current revision is.
type RolloutStatus struct {
	// Revision is the revision being rolled out.
	Revision string `json:"revision"`

	// Step is the index of the step in progress, or stopped; the number of steps when done.
	Step int32 `json:"step"`

	// StepName is the name of that step.
	// +optional
	StepName string `json:"stepName,omitempty"`

	// Steps is the number of steps.
	Steps int32 `json:"steps"`

	// StepStarted is when the step began applying.
	// +optional
	StepStarted *metav1.Time `json:"stepStarted,omitempty"`

	// Stopped is set when the step failed beyond its threshold.
	// +optional
	Stopped bool `json:"stopped,omitempty"`

	// Message says what the step waits for, or why it stopped.
	// +optional
	Message string `json:"message,omitempty"`
}

// GetConditions returns the status conditions.
func (in *ResourceSet) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions sets the status conditions.
func (in *ResourceSet) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the reconcile interval.
func (in *ResourceSet) GetRequeueAfter() metav1.Duration { return in.Spec.Interval }

// GetTimeout returns spec.timeout, or spec.interval when it is unset.
func (in *ResourceSet) GetTimeout() time.Duration {
	if in.Spec.Timeout != nil && in.Spec.Timeout.Duration > 0 {
		return in.Spec.Timeout.Duration
	}
	return in.Spec.Interval.Duration
}

// ResourceSet renders a template once per input and applies the objects, rolling changes out
// in steps that stop on failure.
// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rset,categories=weir
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.lastAppliedRevision`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type ResourceSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ResourceSetSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ResourceSetStatus `json:"status,omitempty"`
}

// ResourceSetList is a list of ResourceSets.
// +kubebuilder:object:root=true
type ResourceSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ResourceSet `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ResourceSet{}, &ResourceSetList{})
}
