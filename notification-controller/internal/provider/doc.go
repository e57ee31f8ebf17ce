// Package provider turns a Provider into a working notifier: it reads the Secrets the Provider
// references (secretRef, certSecretRef, proxySecretRef), checks they hold what the type needs,
// and builds the notifier with an HTTP client for its proxy and TLS settings.
//
// Every error is classified for the reconciler (steps.Stalled with a notification reason) and
// names the Secret and key at fault, never a value.
package provider
