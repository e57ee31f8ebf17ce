// Package postrender transforms the manifests Helm rendered before they are applied, with
// kustomize: strategic-merge and JSON6902 patches and image rewrites, as spec.postRenderers
// lists them. Kustomize runs in-process over an in-memory filesystem holding only the
// manifests, with plugins and remote resources disabled.
package postrender
