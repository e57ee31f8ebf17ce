// Package v1 holds the source.weir.dev/v1 API: GitRepository, OCIRepository, HelmRepository and HelmChart, the sources source-controller turns into artifacts.
//
// +kubebuilder:object:generate=true
// +groupName=source.weir.dev
package v1
