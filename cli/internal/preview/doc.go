// Package preview shows what a Kustomization would apply before it is merged: it runs the
// controller's own build (weir.dev/pkg/kustomize/build) on a local directory in place of the
// source artifact, and compares the result with the live cluster through a server-side dry
// run, one unified diff per object. Secret values never appear in its output.
package preview
