// Package transport builds the HTTP clients source-controller reaches Helm repositories and OCI
// registries with: TLS from a Secret's `ca.crt`, `tls.crt` and `tls.key`, an optional proxy from
// a Secret's `address`, `username` and `password`, a bound on the time to the first response
// byte, and a redirect policy that never carries credentials to another host.
//
// Error messages name Secret keys, never their values.
package transport
