// Package meta holds the types, annotations, labels and condition vocabulary that every Weir
// API group shares: the artifact a source publishes, object references, the reconcile-request
// status, and the condition types and reasons common to all kinds.
//
// +kubebuilder:object:generate=true
package meta
