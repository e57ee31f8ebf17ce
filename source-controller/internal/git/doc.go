// Package git resolves and checks out Git references for GitRepository with go-git: a cheap
// ls-remote to learn which commit a reference points at (so an unchanged repository is never
// cloned), a shallow fetch of exactly that reference, optional sparse checkout, submodules
// restricted to network URLs, and OpenPGP verification of the commit and tag.
//
// It knows nothing of the GitRepository kind: the controller maps its spec to Reference and
// Options, and its Secret to Auth.
package git
