// Package manifests holds the tests of what Weir ships as YAML: the CRDs generated into
// deploy/crds (installation, printer columns, short names, the weir category, and every OpenAPI
// and CEL validation rule, each proven against the real API server) and the deploy/ base
// (it builds with kustomize and the API server accepts it). It has no non-test code.
package manifests
