package meta

// Kustomize building blocks shared by kustomize.weir.dev (Kustomization) and helm.weir.dev
// (post-renderers and drift-detection ignore rules). Their validation messages name the field
// relative to the object, and the API server prefixes the full path.

// CommonMetadata holds labels and annotations set on every object applied. A key already on
// an object is overwritten.
type CommonMetadata struct {
	// Labels to set on every object.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations to set on every object.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Patch is a strategic-merge or JSON6902 patch, inline as YAML, applied to the objects that
// match Target (or, for a strategic-merge patch without a target, to the object it names).
type Patch struct {
	// Patch is the patch document: a strategic-merge patch or a JSON6902 operation list.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=65536
	Patch string `json:"patch"`

	// Target selects the objects to patch.
	// +optional
	Target *Selector `json:"target,omitempty"`
}

// Selector selects objects by group, version, kind, name, namespace, and label and annotation
// selectors. An empty field matches everything; every set field must match.
type Selector struct {
	// Group of the objects; a regular expression.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Group string `json:"group,omitempty"`

	// Version of the objects; a regular expression.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Version string `json:"version,omitempty"`

	// Kind of the objects; a regular expression.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind,omitempty"`

	// Name of the objects; a regular expression.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`

	// Namespace of the objects; a regular expression.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Namespace string `json:"namespace,omitempty"`

	// AnnotationSelector is a label-selector expression matched against the objects' annotations.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	AnnotationSelector string `json:"annotationSelector,omitempty"`

	// LabelSelector is a label-selector expression matched against the objects' labels.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	LabelSelector string `json:"labelSelector,omitempty"`
}

// Image rewrites the name, tag or digest of every container image called Name.
// +kubebuilder:validation:XValidation:rule="has(self.newName) || has(self.newTag) || has(self.digest)",message="images: each entry needs at least one of newName, newTag and digest"
type Image struct {
	// Name of the image to rewrite, as written in the manifests, without tag or digest.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Name string `json:"name"`

	// NewName replaces the image name.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	NewName string `json:"newName,omitempty"`

	// NewTag replaces the image tag.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	NewTag string `json:"newTag,omitempty"`

	// Digest replaces the tag with a digest, `<algorithm>:<hex>`; it wins over NewTag.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern="^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"
	Digest string `json:"digest,omitempty"`
}
