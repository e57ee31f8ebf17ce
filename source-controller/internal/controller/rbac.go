package controller

// RBAC markers for source-controller. controller-gen turns them into the ClusterRole
// `source-controller` in deploy/source-controller/role.yaml (`make generate`); never edit that
// file by hand. Least privilege: the controller reconciles its own kinds and reads the
// Secrets and ConfigMaps they reference; it never touches workloads. Leader-election Leases are
// granted in weir-system only, by deploy/source-controller/leader-election.yaml.
//
// Its own kinds: status and finalizers are written, objects are never created or deleted.
// +kubebuilder:rbac:groups=source.weir.dev,resources=gitrepositories;ocirepositories;helmrepositories;helmcharts,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=source.weir.dev,resources=gitrepositories/status;ocirepositories/status;helmrepositories/status;helmcharts/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=source.weir.dev,resources=gitrepositories/finalizers;ocirepositories/finalizers;helmrepositories/finalizers;helmcharts/finalizers,verbs=update
//
// ArtifactGenerators (status, finalizers) and the ExternalArtifacts they own: created, their
// status written, deleted when dropped from spec.artifacts or with their generator.
// +kubebuilder:rbac:groups=source.weir.dev,resources=artifactgenerators,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=source.weir.dev,resources=artifactgenerators/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=source.weir.dev,resources=artifactgenerators/finalizers,verbs=update
// +kubebuilder:rbac:groups=source.weir.dev,resources=externalartifacts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=source.weir.dev,resources=externalartifacts/status,verbs=get;update;patch
//
// Credentials, TLS and verification keys (secretRef, certSecretRef, verify.secretRef, ...), and
// watched ConfigMaps.
// +kubebuilder:rbac:groups="",resources=secrets;configmaps,verbs=get;list;watch
//
// OCIRepository spec.serviceAccountName: the ServiceAccount's imagePullSecrets.
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get
//
// Kubernetes Events on the objects it reconciles (both Events APIs).
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=create;patch
