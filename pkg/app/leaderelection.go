package app

import (
	"time"

	"k8s.io/client-go/tools/leaderelection"
)

// The leader-election defaults ride through an API-server stall of up to 40 s (an upgrade, an
// etcd leader change, a control-plane node restart) without the leader giving up: it retries its
// renewal every 5 s, 8 times, before the renew deadline. The lease outlasts the deadline by 20 s,
// so a leader that did give up has stopped its reconcilers well before a standby may take over.
// The cost is failover after a leader crashes: up to 60 s. A clean stop releases the lease at once.
// controller-runtime's defaults (15 s, 10 s, 2 s) give up after a 10 s stall.
const (
	DefaultLeaseDuration = 60 * time.Second
	DefaultRenewDeadline = 40 * time.Second
	DefaultRetryPeriod   = 5 * time.Second
)

// validateLeaderElection reports, through bad, each leader-election flag whose value client-go's
// elector would refuse or the Lease could not store.
func (o *Options) validateLeaderElection(bad func(flag, format string, args ...any)) {
	switch {
	case o.LeaseDuration < time.Second:
		bad("leader-election-lease-duration", "must be at least 1s, got %s", o.LeaseDuration)
	case o.LeaseDuration%time.Second != 0:
		bad("leader-election-lease-duration", "must be a whole number of seconds, got %s", o.LeaseDuration)
	}
	switch {
	case o.RenewDeadline <= 0:
		bad("leader-election-renew-deadline", "must be positive, got %s", o.RenewDeadline)
	case o.RenewDeadline >= o.LeaseDuration:
		bad("leader-election-renew-deadline", "must be shorter than --leader-election-lease-duration (%s), got %s", o.LeaseDuration, o.RenewDeadline)
	}
	switch {
	case o.RetryPeriod <= 0:
		bad("leader-election-retry-period", "must be positive, got %s", o.RetryPeriod)
	case o.RenewDeadline > 0 && float64(o.RenewDeadline) <= leaderelection.JitterFactor*float64(o.RetryPeriod):
		bad("leader-election-retry-period", "must be shorter than --leader-election-renew-deadline (%s) divided by %.1f, got %s",
			o.RenewDeadline, leaderelection.JitterFactor, o.RetryPeriod)
	}
}
