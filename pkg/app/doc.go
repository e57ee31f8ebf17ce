// Package app wires a Weir controller process: the command-line flags every controller shares
// (docs/architecture.md, "Ports and common flags"), their validation, the logger, and a
// controller-runtime manager built from them with health and readiness endpoints.
//
// A controller's main.go binds Options next to its own flags, parses, calls Validate, then
// NewManager, registers its reconcilers and calls Start:
//
//	var opts app.Options
//	fs := pflag.NewFlagSet("source-controller", pflag.ContinueOnError)
//	opts.BindFlags(fs)
//	if err := app.Parse(fs, os.Args[1:], opts.Validate); err != nil { ... }
//
// Leader election rides through API-server stalls shorter than --leader-election-renew-deadline
// (40 s by default; see DefaultRenewDeadline). A longer stall loses the lease: Main then runs a
// fresh manager, which waits for the lease and reconciles every object again from the cluster's
// state, instead of exiting.
//
// Reconcilers take their requeues from Options.Intervals: an object's spec.interval or retry
// interval is raised to --min-interval (and the object told so), and periodic requeues are
// spread by --interval-jitter-percentage.
package app
