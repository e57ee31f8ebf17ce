package controller

// RBAC markers for helm-controller. controller-gen turns them into the ClusterRole
// `helm-controller` in deploy/helm-controller/role.yaml (`make generate`); never edit that file
// by hand. These are the rights the controller needs for itself. Installing a release's objects
// needs more: either an impersonated ServiceAccount's rights (spec.serviceAccountName,
// --default-service-account) or, as installed by default, the cluster-admin binding in
// deploy/helm-controller/cluster-reconciler.yaml. Leader-election Leases are granted in
// weir-system only, by deploy/helm-controller/leader-election.yaml.
//
// Its own kind: status and finalizers are written, objects are never created or deleted.
// +kubebuilder:rbac:groups=helm.weir.dev,resources=helmreleases,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=helm.weir.dev,resources=helmreleases/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=helm.weir.dev,resources=helmreleases/finalizers,verbs=update
//
// HelmCharts are owned: a HelmRelease's spec.chart template becomes a HelmChart that this
// controller creates, updates and deletes.
// +kubebuilder:rbac:groups=source.weir.dev,resources=helmcharts,verbs=get;list;watch;create;update;patch;delete
//
// Sources: spec.chartRef (OCIRepository, HelmChart, ExternalArtifact) and the sources a chart template names.
// +kubebuilder:rbac:groups=source.weir.dev,resources=gitrepositories;ocirepositories;helmrepositories;externalartifacts,verbs=get;list;watch
//
// Dependencies (spec.dependsOn) may be Kustomizations; their readiness is watched.
// +kubebuilder:rbac:groups=kustomize.weir.dev,resources=kustomizations,verbs=get;list;watch
//
// Values (spec.valuesFrom), remote kubeconfigs (spec.kubeConfig).
// +kubebuilder:rbac:groups="",resources=secrets;configmaps,verbs=get;list;watch
//
// Install as a tenant: spec.serviceAccountName and --default-service-account.
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;impersonate
//
// Kubernetes Events on the objects it reconciles (both Events APIs).
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=create;patch
