// Package v1 holds the kustomize.weir.dev/v1 API: Kustomization, which kustomize-controller builds from a source artifact and applies to a cluster.
//
// +kubebuilder:object:generate=true
// +groupName=kustomize.weir.dev
package v1
