package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	corev1 "k8s.io/api/core/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/helm-controller/internal/release"
)

// remediation is what follows a failed install or upgrade, from spec.install.remediation or
// spec.upgrade.remediation and the action's strategy.
type remediation struct {
	// retries is how often the action is retried for one desired state; negative is forever.
	retries int
	// last remediates the failure that uses up the retries too.
	last bool
	// strategy undoes the failure: always uninstall after an install.
	strategy helmv1.RemediationStrategy
	// off leaves the failed release in place and retries forever, every retryInterval
	// (strategy RetryOnFailure).
	off bool
	// retryInterval is the time between retries with RetryOnFailure, from the field retryField
	// names.
	retryInterval time.Duration
	retryField    string
}

// retryOnFailure sets rem up for strategy s, the one at field, when it is RetryOnFailure: no
// remediation, retries forever every s.retryInterval (spec.interval when unset).
func (rem *remediation) retryOnFailure(obj *helmv1.HelmRelease, field string, s *helmv1.ActionStrategy) {
	if s == nil || s.Name != helmv1.ActionStrategyRetryOnFailure {
		return
	}
	rem.off, rem.retries, rem.last = true, -1, false
	rem.retryInterval, rem.retryField = obj.Spec.Interval.Duration, "spec.interval"
	if s.RetryInterval != nil {
		rem.retryInterval, rem.retryField = s.RetryInterval.Duration, field+".retryInterval"
	}
}

// remediationFor returns the remediation of action with its defaults: no retries, uninstall
// after an install (not after its last failure), rollback after an upgrade (after its last
// failure too when retries are set); or, with strategy RetryOnFailure, none at all.
func remediationFor(obj *helmv1.HelmRelease, action helmv1.ReleaseAction) remediation {
	if action == helmv1.ReleaseActionUpgrade {
		rem := remediation{strategy: helmv1.RollbackRemediationStrategy}
		up := obj.Spec.Upgrade
		if up == nil {
			return rem
		}
		if rm := up.Remediation; rm != nil {
			rem.retries = rm.Retries
			rem.last = rm.Retries != 0
			if rm.RemediateLastFailure != nil {
				rem.last = *rm.RemediateLastFailure
			}
			if rm.Strategy != nil {
				rem.strategy = *rm.Strategy
			}
		}
		rem.retryOnFailure(obj, "spec.upgrade.strategy", up.Strategy)
		return rem
	}
	rem := remediation{strategy: helmv1.UninstallRemediationStrategy}
	in := obj.Spec.Install
	if in == nil {
		return rem
	}
	if rm := in.Remediation; rm != nil {
		rem.retries = rm.Retries
		if rm.RemediateLastFailure != nil {
			rem.last = *rm.RemediateLastFailure
		}
	}
	rem.retryOnFailure(obj, "spec.install.strategy", in.Strategy)
	return rem
}

// retriesExhausted reports whether action failed more often, for the current desired state,
// than its remediation allows retries.
func retriesExhausted(obj *helmv1.HelmRelease, action helmv1.ReleaseAction) bool {
	failures := obj.Status.InstallFailures
	if action == helmv1.ReleaseActionUpgrade {
		failures = obj.Status.UpgradeFailures
	}
	retries := remediationFor(obj, action).retries
	return retries >= 0 && failures > int64(retries)
}

// remediate undoes a failed action (its failure already counted) while retries remain, and
// after the last failure when remediateLastFailure says so. It undoes the newest revision
// when it failed, or, with tested, the newest revision whose tests failed: an upgrade is rolled back to the
// previous successful revision or uninstalled, an install is uninstalled. It sets Remediated
// (True, with the rollback's or uninstall's reason) and records a warning event; on failure it
// returns the error and the reason to report it with.
func (r *HelmReleaseReconciler) remediate(ctx context.Context, sc *hrScope, runner *release.Runner, action helmv1.ReleaseAction, tested bool) (string, error) {
	obj := sc.obj
	rem := remediationFor(obj, action)
	if rem.off || (retriesExhausted(obj, action) && !rem.last) {
		return "", nil
	}
	if !tested {
		// An action that failed before Helm recorded a revision (e.g. a template that does
		// not render) left the release as it was: there is nothing to undo.
		state, err := runner.Observe(ownerLabels(obj), release.Desired{})
		if err != nil {
			return helmv1.GetLastReleaseFailedReason, err
		}
		if state.Kind != release.Failed {
			return "", nil
		}
	}
	ref := releaseRef(runner)
	var reason, msg string
	switch rem.strategy {
	case helmv1.UninstallRemediationStrategy:
		if err := runner.Uninstall(uninstallOptions(obj)); err != nil {
			r.refreshHistory(ctx, obj, runner, sc, false)
			return helmv1.UninstallFailedReason, fmt.Errorf("Helm uninstall after the failed %s of release %s failed: %w", action, ref, err)
		}
		obj.Status.Inventory = nil
		reason, msg = helmv1.UninstallSucceededReason, fmt.Sprintf("Helm uninstall succeeded for release %s after a failed %s", ref, action)
	default:
		version, err := runner.Rollback(rollbackOptions(obj))
		r.refreshHistory(ctx, obj, runner, sc, false)
		if err != nil {
			return helmv1.RollbackFailedReason, fmt.Errorf("Helm rollback after the failed %s of release %s failed: %w", action, ref, err)
		}
		reason, msg = helmv1.RollbackSucceededReason, fmt.Sprintf("Helm rollback to revision %d succeeded for release %s after a failed %s", version, ref, action)
	}
	r.refreshHistory(ctx, obj, runner, sc, false)
	conditions.MarkTrue(obj, helmv1.RemediatedCondition, reason, "%s", msg)
	r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeWarning, reason, "remediate", "%s", msg)
	return "", nil
}

// rollbackOptions maps spec.rollback.
func rollbackOptions(obj *helmv1.HelmRelease) release.RollbackOptions {
	rb := obj.Spec.Rollback
	if rb == nil {
		rb = &helmv1.Rollback{}
	}
	return release.RollbackOptions{
		Timeout:       durationOr(rb.Timeout, obj.GetTimeout()),
		Wait:          !rb.DisableWait,
		WaitForJobs:   !rb.DisableWaitForJobs,
		DisableHooks:  rb.DisableHooks,
		Recreate:      rb.Recreate,
		Force:         rb.Force,
		CleanupOnFail: rb.CleanupOnFail,
	}
}
