// Package faults holds Weir's fault tests: one local Weir (`weir local up` with its demo) whose
// controllers reach the API server through a fault-injecting proxy, and a second
// kustomize-controller replica. Each test opens a fault (429s, 500s or stalled requests for tens
// of seconds, or a leader killed mid-apply) while a commit is pushed, and checks that the system
// converges by itself with nothing lost, nothing applied twice and nothing pruned wrongly.
//
// Run with `go test ./test/faults/` from cli/; it needs bin/ as the e2e tests do.
package faults
