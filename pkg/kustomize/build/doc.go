// Package build turns a Kustomization's path inside an extracted artifact into the objects to
// apply: it generates a kustomization.yaml when the path has none, applies the spec's
// overlays (targetNamespace, name prefix and suffix, commonMetadata, patches, images,
// components), runs kustomize in-process confined to the artifact root with no plugins, exec or
// KRM functions, and substitutes postBuild variables. Errors name files by their path in the
// repository, never the temporary directory.
//
// Before kustomize runs, every remote reference the build would follow is refused (the
// default) or, with Options.AllowRemoteBases, fetched by this package within time and size
// bounds and outside kustomize's lock, so kustomize itself never fetches nor runs git.
//
// It is the one build both kustomize-controller and `weir build` run.
package build
