// Package preview shows what a change would do before it is merged. For a Kustomization it
// runs the controller's own build (weir.dev/pkg/kustomize/build) on a local directory in place
// of the source artifact; for a HelmRelease it renders the chart with the controller's own
// values, post-renderers and render (weir.dev/pkg/helm/...); for a ResourceSet it renders its
// template. It compares the result with the live cluster through a server-side dry run as the
// controller's field manager, one unified diff per object. Secret values never appear in its
// output.
package preview
