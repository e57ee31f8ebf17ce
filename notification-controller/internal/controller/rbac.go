package controller

// RBAC markers for notification-controller. controller-gen turns them into the ClusterRole
// `notification-controller` in deploy/notification-controller/role.yaml (`make generate`);
// never edit that file by hand. Least privilege: the controller reconciles Providers, Alerts
// and Receivers, reads the Secrets they reference, and may only annotate the objects a
// Receiver names; it never touches workloads. Leader-election Leases are granted in
// weir-system only, by deploy/notification-controller/leader-election.yaml.
//
// Its own kinds: status and finalizers are written, objects are never created or deleted.
// +kubebuilder:rbac:groups=notification.weir.dev,resources=providers;alerts;receivers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=notification.weir.dev,resources=providers/status;alerts/status;receivers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=notification.weir.dev,resources=providers/finalizers;alerts/finalizers;receivers/finalizers,verbs=update
//
// Provider tokens, addresses and TLS (secretRef, certSecretRef), Receiver tokens.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
//
// Receivers: find the objects they name (by name or matchLabels) and set the
// reconcile.weir.dev/requestedAt annotation with a patch. Alerts: read an event's involved
// object when an event source selects by labels.
// +kubebuilder:rbac:groups=source.weir.dev,resources=gitrepositories;ocirepositories;helmrepositories;helmcharts,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=kustomize.weir.dev,resources=kustomizations,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=helm.weir.dev,resources=helmreleases,verbs=get;list;watch;patch
//
// Kubernetes Events on the objects it reconciles (both Events APIs).
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=create;patch
