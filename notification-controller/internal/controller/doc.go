// Package controller holds the reconcilers of Provider, Alert and Receiver. They check what each
// object references (Secrets, the Provider, expressions) and report it in status: Ready with a
// specific reason, and a Receiver's webhook path. They never deliver or receive anything: the
// servers in internal/server do, reading the same objects.
//
// Files: provider_controller.go, alert_controller.go and receiver_controller.go (setup and
// steps of each kind), with their status in provider_status.go, alert_status.go and
// receiver_status.go; receiver_oidc.go (the issuer and audience a Receiver authenticating with ID tokens accepts);
// secrets.go (the Secret watch of Providers and Receivers); finish.go (the end of a reconcile
// the three share); rbac.go (the ClusterRole's markers).
package controller
