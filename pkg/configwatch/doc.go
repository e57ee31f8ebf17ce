// Package configwatch triggers the objects that use a ConfigMap or Secret when it changes, for
// ConfigMaps and Secrets labelled reconcile.weir.dev/watch: Enabled (meta.WatchLabel).
//
// The watch is metadata-only and its cache is restricted to labelled objects (CacheOptions), so
// the controller never holds a Secret's data, nor anything of an unlabelled ConfigMap or Secret.
// The users are found through a field index of the names they reference (Key), filled by the
// controller's own function.
package configwatch
