// Package manifest builds the objects `weir create` applies or prints: Weir's kinds and the
// Secrets they read, as typed API objects from flag values, validated so that a mistake is
// named by its flag before anything reaches a cluster. It also turns objects into clean YAML
// for --export and for `weir export`.
package manifest
