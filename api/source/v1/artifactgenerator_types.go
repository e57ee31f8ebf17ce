package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// ArtifactGeneratorKind is the kind name of ArtifactGenerator.
const ArtifactGeneratorKind = "ArtifactGenerator"

// Copy strategies of an ArtifactGenerator's copy operation.
const (
	// CopyOverwrite replaces a file already in the artifact.
	CopyOverwrite = "Overwrite"
	// CopyMerge merges a YAML file into the one already in the artifact, as Helm merges
	// values files: maps are merged key by key, everything else (lists too) is replaced.
	CopyMerge = "Merge"
)

// ArtifactGeneratorSpec names the sources to read and the artifacts to compose from them.
// +kubebuilder:validation:XValidation:rule="self.sources.all(s, self.sources.exists_one(t, t.alias == s.alias))",message="spec.sources: every alias must be unique"
// +kubebuilder:validation:XValidation:rule="self.artifacts.all(a, self.artifacts.exists_one(b, b.name == a.name))",message="spec.artifacts: every name must be unique"
type ArtifactGeneratorSpec struct {
	// Sources are the source objects, in the generator's namespace, whose artifacts the copy
	// operations read, each under an alias.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Sources []ArtifactSourceReference `json:"sources"`

	// Artifacts are the ExternalArtifacts to generate, one each, owned by the generator.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Artifacts []OutputArtifact `json:"artifacts"`

	// Interval at which the stored artifacts are checked and rebuilt if missing; a new source
	// artifact triggers a rebuild at once.
	// +optional
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval metav1.Duration `json:"interval,omitempty"`

	// Suspend stops reconciliation; the generated artifacts stay served.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ArtifactSourceReference names a source object in the generator's namespace under an alias.
type ArtifactSourceReference struct {
	// Alias is how copy operations name the source (`@alias/...`).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern="^[a-zA-Z0-9_-]+$"
	Alias string `json:"alias"`

	// Kind of the source.
	// +required
	// +kubebuilder:validation:Enum=GitRepository;OCIRepository;HelmChart;ExternalArtifact
	Kind string `json:"kind"`

	// Name of the source, in the generator's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// OutputArtifact is one ExternalArtifact to generate.
type OutputArtifact struct {
	// Name of the ExternalArtifact, in the generator's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
	Name string `json:"name"`

	// Revision, as `@alias`, makes the artifact's revision that source's revision; by default
	// it is `latest@sha256:<hash of the content>`, which changes only when the content does.
	// +optional
	// +kubebuilder:validation:Pattern="^@[a-zA-Z0-9_-]+$"
	Revision string `json:"revision,omitempty"`

	// OriginRevision, as `@alias`, records that source's revision (e.g. the commit) in the
	// artifact's metadata (`originRevision`) without making it the artifact's revision. It is
	// the source revision the content was last generated from: a new source revision that
	// leaves the content unchanged does not change the artifact.
	// +optional
	// +kubebuilder:validation:Pattern="^@[a-zA-Z0-9_-]+$"
	OriginRevision string `json:"originRevision,omitempty"`

	// Copy operations, in order; a later one overwrites (or merges into) what an earlier one
	// wrote.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Copy []CopyOperation `json:"copy"`
}

// CopyOperation copies files from a source's artifact into the generated one, like `cp -r`.
// `@alias/dir/**` copies the contents of dir recursively; `@alias/dir/` (or `@alias/dir`)
// copies dir itself as a subdirectory; `@alias/dir/*.yaml` copies the matching files; a path
// without a glob copies that file. A `to` ending in `/` is a directory to copy into; otherwise,
// when `from` is a file or a glob that selects one file, that file is copied to that name, and
// several files go below it. A `from` that matches nothing is an error.
type CopyOperation struct {
	// From is `@alias/<path or glob>`: `*` matches within one path segment, `**` any number of
	// segments, `?` one character and `[...]` a class.
	// +required
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern="^@[a-zA-Z0-9_-]+(/.*)?$"
	From string `json:"from"`

	// To is `@artifact/<path>` in the generated artifact; `@artifact/` is its root.
	// +required
	// +kubebuilder:validation:MinLength=10
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern="^@artifact(/.*)?$"
	To string `json:"to"`

	// Exclude lists globs (same syntax as from) of files left out, matched against the path
	// relative to the directory from selects in, and, when it has no `/`, against the file name.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	Exclude []string `json:"exclude,omitempty"`

	// Strategy for a file that is already in the artifact: Overwrite (default) or Merge (YAML
	// files only; maps are merged, everything else is replaced, as with Helm values files).
	// +optional
	// +kubebuilder:validation:Enum=Overwrite;Merge
	Strategy string `json:"strategy,omitempty"`
}

// ArtifactGeneratorStatus is the observed state of an ArtifactGenerator.
type ArtifactGeneratorStatus struct {
	// ObservedGeneration is the last generation the controller observed.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: see condition_types.go for each type's polarity.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Inventory lists the ExternalArtifacts the generator produced, so that one dropped from
	// spec.artifacts is deleted with its stored files.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Inventory []ExternalArtifactReference `json:"inventory,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// ExternalArtifactReference names a generated ExternalArtifact and its revision.
type ExternalArtifactReference struct {
	// Name of the ExternalArtifact, in the generator's namespace.
	Name string `json:"name"`
	// Revision of its artifact.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Digest of its artifact.
	// +optional
	Digest string `json:"digest,omitempty"`
}

// GetConditions returns the status conditions.
func (in *ArtifactGenerator) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ArtifactGenerator) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns the interval at which the object is reconciled.
func (in *ArtifactGenerator) GetRequeueAfter() metav1.Duration { return in.Spec.Interval }

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ag,categories=weir
// +kubebuilder:printcolumn:name="Artifacts",type=string,JSONPath=`.status.inventory[*].name`
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// ArtifactGenerator composes ExternalArtifacts from the artifacts of other sources, or splits
// one source into several, so that a change to one directory of a repository reconciles only
// the consumers of that directory.
type ArtifactGenerator struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ArtifactGeneratorSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ArtifactGeneratorStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ArtifactGeneratorList is a list of ArtifactGenerators.
type ArtifactGeneratorList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ArtifactGenerator `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ArtifactGenerator{}, &ArtifactGeneratorList{})
}
