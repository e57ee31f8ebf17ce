// Package bootstrap holds what `weir bootstrap git` does to a Git repository: it clones the
// repository (go-git, in memory), checks that the cluster's path is free or already Weir's,
// writes Weir's own manifests and the objects that sync them (deterministically, so that a
// second run finds nothing to commit), commits only when a file changed and pushes. It also
// gives the credentials in the format source-controller reads from a GitRepository's Secret.
// The cluster side (apply, Secret, waiting) is in the cmd package, next to `weir install`.
package bootstrap
