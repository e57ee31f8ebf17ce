package meta

// LocalObjectReference names an object in the same namespace as the referrer.
type LocalObjectReference struct {
	// Name of the referent.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// NamespacedObjectReference names an object, optionally in another namespace.
// Cross-namespace references are refused when a controller runs with --no-cross-namespace-refs.
type NamespacedObjectReference struct {
	// Name of the referent.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the referent; defaults to the referrer's namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// NamespacedObjectKindReference names an object of a given kind, optionally in another namespace.
type NamespacedObjectKindReference struct {
	// APIVersion of the referent; defaults to the kind's preferred version.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the referent.
	// +required
	// +kubebuilder:validation:MinLength=1
	Kind string `json:"kind"`

	// Name of the referent.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the referent; defaults to the referrer's namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// SecretKeyReference names one key of a Secret in the referrer's namespace.
type SecretKeyReference struct {
	// Name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Key in the Secret; when empty, the kind documents which key it reads.
	// +optional
	Key string `json:"key,omitempty"`
}

// KubeConfigReference points at a kubeconfig for a remote cluster, stored in a Secret.
// Kubeconfigs with exec or auth-provider plugins are refused unless the controller allows them.
type KubeConfigReference struct {
	// SecretRef names the Secret and key (default `value`, then `value.yaml`) that hold the kubeconfig.
	// +required
	SecretRef SecretKeyReference `json:"secretRef"`
}

// ReconcileRequestStatus echoes the last handled value of the reconcile-request annotation.
type ReconcileRequestStatus struct {
	// LastHandledReconcileAt holds the value of the most recent reconcile request
	// (the `reconcile.weir.dev/requestedAt` annotation) that was handled.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// GetLastHandledReconcileRequest returns the most recently handled reconcile request.
func (in ReconcileRequestStatus) GetLastHandledReconcileRequest() string {
	return in.LastHandledReconcileAt
}

// SetLastHandledReconcileRequest records the reconcile request that was handled.
func (in *ReconcileRequestStatus) SetLastHandledReconcileRequest(token string) {
	in.LastHandledReconcileAt = token
}
