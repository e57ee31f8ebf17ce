package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// DefaultMaxReconcileDuration is the default of --healthz-max-reconcile-duration: far beyond
// the longest spec.timeout in common use (Flux's and Weir's defaults are 5 m), so that only a
// reconcile that hangs, e.g. on a deadlock or a call without a deadline, trips it.
const DefaultMaxReconcileDuration = 2 * time.Hour

// probeTimeout bounds the work of one probe, well within the kubelet's default of 1 s.
const probeTimeout = 800 * time.Millisecond

// addProbes registers the manager's checks. /readyz ("leader-and-caches") answers 200 only
// once the process knows its role: as the leader (or without leader election) once the caches
// of its watched kinds have synced, as a standby once it has read a Lease another replica holds
// and keeps renewing. /healthz adds "reconcilers" to "ping": it fails while a reconcile has run
// longer than maxReconcile (0 disables), so a manager whose workers hang is restarted.
func addProbes(mgr ctrl.Manager, leaderElection bool, lease client.ObjectKey, maxReconcile time.Duration, watched []client.Object) error {
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if maxReconcile > 0 {
		if err := mgr.AddHealthzCheck("reconcilers", reconcilersCheck(maxReconcile)); err != nil {
			return err
		}
	}
	return mgr.AddReadyzCheck("leader-and-caches", readyCheck(mgr, leaderElection, lease, watched))
}

// readyCheck is the /readyz check: see addProbes.
func readyCheck(mgr ctrl.Manager, leaderElection bool, lease client.ObjectKey, watched []client.Object) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), probeTimeout)
		defer cancel()
		select {
		case <-mgr.Elected(): // closed at once without leader election, once the controllers start
		default:
			if !leaderElection {
				return errors.New("the controllers have not started")
			}
			return standby(ctx, mgr.GetAPIReader(), lease)
		}
		// The controllers ask the cache for these informers as they start; asking here (without
		// waiting) makes sure none is missing from the sync check below in the meantime.
		for _, obj := range watched {
			if _, err := mgr.GetCache().GetInformer(ctx, obj, cache.BlockUntilSynced(false)); err != nil {
				return fmt.Errorf("caches not synced: %w", err)
			}
		}
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New("caches not synced: the API server has not answered the lists and watches yet")
		}
		return nil
	}
}

// standby returns nil when the Lease is held by another replica that renewed it within its
// lease duration: this process is a standby and knows it. Otherwise its role is unknown yet.
func standby(ctx context.Context, r client.Reader, key client.ObjectKey) error {
	l := &coordinationv1.Lease{}
	if err := r.Get(ctx, key, l); err != nil {
		return fmt.Errorf("leader election: role not known yet: reading Lease %s: %w", key, err)
	}
	s := l.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return fmt.Errorf("leader election: role not known yet: Lease %s is not held", key)
	}
	if time.Since(s.RenewTime.Time) > time.Duration(*s.LeaseDurationSeconds)*time.Second {
		return fmt.Errorf("leader election: role not known yet: Lease %s expired", key)
	}
	return nil
}

// reconcilersCheck fails while a controller's longest-running reconcile has run more than max,
// as controller-runtime's workqueue metrics report it (updated every half second).
func reconcilersCheck(max time.Duration) healthz.Checker {
	return func(*http.Request) error {
		families, err := ctrlmetrics.Registry.Gather()
		if err != nil {
			return nil // a metrics problem is no reason to restart the process
		}
		for _, f := range families {
			if f.GetName() != "workqueue_longest_running_processor_seconds" {
				continue
			}
			for _, m := range f.GetMetric() {
				if d := time.Duration(m.GetGauge().GetValue() * float64(time.Second)); d > max {
					name := ""
					for _, l := range m.GetLabel() {
						if l.GetName() == "name" {
							name = l.GetValue()
						}
					}
					return fmt.Errorf("controller %s: a reconcile has run for %s, more than --healthz-max-reconcile-duration=%s", name, d.Round(time.Second), max)
				}
			}
		}
		return nil
	}
}
