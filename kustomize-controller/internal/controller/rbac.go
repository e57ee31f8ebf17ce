package controller

// RBAC markers for kustomize-controller. controller-gen turns them into the ClusterRole
// `kustomize-controller` in deploy/kustomize-controller/role.yaml (`make generate`); never edit
// that file by hand. These are the rights the controller needs for itself. Applying a
// Kustomization's manifests needs more: either an impersonated ServiceAccount's rights
// (spec.serviceAccountName, --default-service-account) or, as installed by default, the
// cluster-admin binding in deploy/kustomize-controller/cluster-reconciler.yaml. Leader-election
// Leases are granted in weir-system only, by deploy/kustomize-controller/leader-election.yaml.
//
// Its own kind: status and finalizers are written, objects are never created or deleted.
// +kubebuilder:rbac:groups=kustomize.weir.dev,resources=kustomizations,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=kustomize.weir.dev,resources=kustomizations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=kustomize.weir.dev,resources=kustomizations/finalizers,verbs=update
//
// The sources a Kustomization's spec.sourceRef may name, and their artifacts in status.
// +kubebuilder:rbac:groups=source.weir.dev,resources=gitrepositories;ocirepositories;externalartifacts,verbs=get;list;watch
//
// The owners that applied objects' ownership labels name (kustomization_ownership.go), and
// HelmReleases that spec.dependsOn names (watched: becoming ready triggers their dependents).
// +kubebuilder:rbac:groups=helm.weir.dev,resources=helmreleases,verbs=get;list;watch
//
// Decryption keys, remote kubeconfigs (spec.kubeConfig), postBuild.substituteFrom.
// +kubebuilder:rbac:groups="",resources=secrets;configmaps,verbs=get;list;watch
//
// Apply as a tenant: spec.serviceAccountName and --default-service-account (get: whether it
// still exists when its Kustomization is deleted).
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;impersonate
//
// Kubernetes Events on the objects it reconciles (both Events APIs).
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=create;patch
