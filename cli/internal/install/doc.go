// Package install holds Weir's install manifests, the output of `kustomize build deploy/`,
// embedded so that `weir install` works outside the repository. The Go embed directive cannot
// reach deploy/ across the module boundary, so `make generate` (go generate in this package)
// writes manifests.yaml from deploy/; a test fails when it is stale.
package install
