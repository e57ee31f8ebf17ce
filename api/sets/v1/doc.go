// Package v1 holds the sets.weir.dev/v1 API: ResourceSet, which kustomize-controller
// renders from a template once per input (a literal list, the directories or files of a source
// artifact, or a matrix of two) and applies in steps that stop on failure.
//
// +kubebuilder:object:generate=true
// +groupName=sets.weir.dev
package v1
