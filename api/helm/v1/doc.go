// Package v1 holds the helm.weir.dev/v1 API: HelmRelease, which helm-controller installs, upgrades, tests, remediates and uninstalls.
//
// +kubebuilder:object:generate=true
// +groupName=helm.weir.dev
package v1
