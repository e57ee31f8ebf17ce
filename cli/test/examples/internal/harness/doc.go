// Package harness runs the repositories of docs/examples on a local Weir (package local) as a
// user would: each example directory is pushed, unchanged but for its placeholder URLs, to a
// Git host on 127.0.0.1, its cluster entry point is applied as `kubectl apply -k` applies it,
// and the test waits for what the user would see: conditions, objects, webhooks received.
package harness
