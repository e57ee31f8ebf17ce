// Package render turns a HelmRelease's chart and values into the objects Helm would apply,
// the one way helm-controller and the weir CLI both do it: LoadChart reads a chart from an
// extracted artifact or a local directory, CheckSchemas refuses values schemas that would
// make Helm load other documents, Manifest renders as a dry-run install (post-renderers
// applied, hooks and crds/ left out), and Objects decodes a manifest into the objects Helm
// creates, namespaced into the release's namespace.
//
// Values are composed by weir.dev/pkg/helm/values and post-renderers built by
// weir.dev/pkg/helm/postrender.
package render
