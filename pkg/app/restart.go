package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// restarter runs a controller's managers one after another: a manager that stopped because it
// lost the leader election is replaced by a fresh one (new caches, new identity, a new election)
// instead of ending the process. Reconcilers are level-based: the fresh manager lists every
// object once it leads and reconciles each from the cluster's state, so no change made before,
// during or after the loss is missed.
type restarter struct {
	// base and max bound the delay before a fresh manager: it doubles from base with each
	// restart in a row, up to max.
	base, max time.Duration
	// stable is how long a manager runs before its loss no longer counts as "in a row".
	stable time.Duration
	// maxFailures is how many fresh managers in a row may fail to build or start, e.g. while
	// the old one's listeners are still closing, before run gives up.
	maxFailures int
}

// defaultRestarter is what Main uses.
var defaultRestarter = restarter{base: time.Second, max: 30 * time.Second, stable: 10 * time.Minute, maxFailures: 5}

// run builds a manager with build and starts it until ctx ends, then returns nil. It returns the
// error of the first manager that cannot be built or stops with an error other than a lost
// election, and of the maxFailures-th fresh manager in a row to fail. build's again is false
// for the first manager only.
func (r restarter) run(ctx context.Context, log logr.Logger, build func(again bool) (ctrl.Manager, error)) error {
	restarts, failures := 0, 0
	for again := false; ; again = true {
		started := time.Now()
		mgr, err := build(again)
		if err == nil {
			err = mgr.Start(ctx)
		}
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		case mgr != nil && lostElection(mgr, err):
			failures = 0
			if time.Since(started) >= r.stable {
				restarts = 0
			}
			restarts++
			log.Info("leader election lost: the lease was not renewed within the renew deadline; running for election again with a fresh manager",
				"after", r.delay(restarts))
		case !again:
			return err
		default:
			failures++
			if failures >= r.maxFailures {
				return fmt.Errorf("%d fresh managers in a row failed after a lost leader election: %w", failures, err)
			}
			restarts++
			log.Error(err, "the fresh manager failed; trying again", "after", r.delay(restarts))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.delay(restarts)):
		}
	}
}

// delay is the wait before the n-th restart in a row (n >= 1).
func (r restarter) delay(n int) time.Duration {
	d := r.base
	for i := 1; i < n && d < r.max; i++ {
		d *= 2
	}
	return min(d, r.max)
}

// lostElection reports whether mgr, which has returned err from Start, led and then lost its
// lease. controller-runtime says so only in the error's text (manager's OnStoppedLeading); the
// leader-election test pins it.
func lostElection(mgr ctrl.Manager, err error) bool {
	select {
	case <-mgr.Elected():
	default:
		return false
	}
	return strings.Contains(err.Error(), "leader election lost")
}
