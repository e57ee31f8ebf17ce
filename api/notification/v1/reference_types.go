package v1

// CrossNamespaceObjectReference selects Weir objects of one kind, by name or by labels,
// optionally in another namespace. Alerts use it to pick the objects whose events they
// forward; Receivers, the objects they ask to reconcile.
// Cross-namespace references are refused when the controller runs with --no-cross-namespace-refs.
// +kubebuilder:validation:XValidation:rule="self.name == '*' || !self.name.contains('*')",message="name must be '*' or an exact object name"
// +kubebuilder:validation:XValidation:rule="!has(self.matchLabels) || self.name == '*'",message="matchLabels requires name to be '*'"
// +kubebuilder:validation:XValidation:rule="!has(self.__namespace__) || self.__namespace__ != '*' || self.name == '*'",message="namespace '*' requires name to be '*'"
// +kubebuilder:validation:XValidation:rule="!has(self.apiVersion) || self.apiVersion.startsWith(self.kind == 'Kustomization' ? 'kustomize.weir.dev/' : self.kind == 'HelmRelease' ? 'helm.weir.dev/' : 'source.weir.dev/')",message="apiVersion must be in the kind's Weir group: source.weir.dev for sources, kustomize.weir.dev for Kustomization, helm.weir.dev for HelmRelease"
type CrossNamespaceObjectReference struct {
	// APIVersion of the referent, e.g. `source.weir.dev/v1`; the kind's served version when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the referent: one of Weir's kinds.
	// +required
	// +kubebuilder:validation:Enum=GitRepository;OCIRepository;HelmRepository;HelmChart;Kustomization;HelmRelease
	Kind string `json:"kind"`

	// Name of the referent, or `*` for every object of the kind (narrowed by matchLabels).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the referent; the referrer's namespace when empty. `*` selects every
	// namespace and requires name `*`.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`

	// MatchLabels selects, among the objects name `*` selects, those with all these labels.
	// Requires name `*`.
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}
