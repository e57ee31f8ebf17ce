// Package install renders Weir's install manifests from the kustomize bases in deploy/ (the
// weir.dev/deploy module embeds them): the namespace, the image references, the version label
// and the optional components a user asks for, exactly as a kustomize overlay over deploy/
// would. `weir install`, `weir uninstall` and the container tests use it.
package install
