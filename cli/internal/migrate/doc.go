// Package migrate rewrites Flux manifests into Weir's: the apiVersions of Flux's kinds, the
// Flux annotation and label keys Weir reads under its own names, and patch targets' groups. It
// edits the text in place, so comments, quoting, ordering and indentation stay as they were,
// and reports with file and line everything that does not map: kinds Weir does not have, keys
// it does not read, fields its CRDs lack. An Argo CD ApplicationSet with one Git directory
// generator is replaced by a GitRepository and a ResourceSet (applicationset.go).
package migrate
