// Package verification checks Sigstore cosign signatures of OCI artifacts with public keys,
// through sigstore's own Go libraries (github.com/sigstore/cosign/v2): a signature stored the
// way `cosign sign --key` stores it (the `sha256-<digest>.sig` tag) must be valid for one of
// the trusted keys and must name the artifact's digest.
//
// Verification is offline: no transparency log (Rekor) or certificate timestamp is consulted,
// as with `cosign verify --key <key> --insecure-ignore-tlog`. Keyless (Fulcio) signatures are
// not supported.
package verification
