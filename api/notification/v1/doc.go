// Package v1 holds the notification.weir.dev/v1 API: Provider, Alert and Receiver, which route events out to chat and Git providers and webhooks in to reconcile requests.
//
// +kubebuilder:object:generate=true
// +groupName=notification.weir.dev
package v1
