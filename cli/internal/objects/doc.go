// Package objects knows Weir's kinds and how to read and drive their objects: the conditions,
// revisions, sources and inventories that both the weir commands and the web UI show, and the
// patches that request a reconcile or suspend one. Both go through it, so the UI makes exactly
// the API calls the CLI makes.
package objects
