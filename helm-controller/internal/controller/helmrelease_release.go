package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	helmrelease "helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/helm/postrender"
	"weir.dev/pkg/helm/render"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/steps"
)

// maxActions bounds the actions one reconcile runs, e.g. an unlock followed by an upgrade.
const maxActions = 4

// nextAction is the one thing to do about an observed release state.
type nextAction string

const (
	actNone    nextAction = "none"    // in sync: nothing to do
	actInstall nextAction = "install" // no release yet
	actUpgrade nextAction = "upgrade" // out of sync, failed, or a new desired state
	actUnlock  nextAction = "unlock"  // pending revision left by a stopped controller
	actWait    nextAction = "wait"    // an action of this process is still running
	actStall   nextAction = "stall"   // not ours, or retries used up for this desired state
)

// decide picks the action for state s. changed says the desired state (generation, chart
// revision or values) differs from the last attempt's, which resets retries; until it does,
// a release whose last action used up its retries is left alone.
func decide(obj *helmv1.HelmRelease, s release.State, changed bool) nextAction {
	exhausted := !changed && retriesExhausted(obj, lastAction(obj))
	switch s.Kind {
	case release.Unowned:
		return actStall
	case release.Busy:
		return actWait
	case release.Locked:
		return actUnlock
	case release.Absent:
		if exhausted {
			return actStall
		}
		return actInstall
	case release.Failed, release.OutOfSync:
		if exhausted {
			return actStall
		}
		return actUpgrade
	default: // InSync
		if changed {
			return actUpgrade
		}
		return actNone
	}
}

// lastAction is the install or upgrade last attempted; upgrade before any attempt recorded.
func lastAction(obj *helmv1.HelmRelease) helmv1.ReleaseAction {
	if a := obj.Status.LastAttemptedReleaseAction; a != "" {
		return a
	}
	return helmv1.ReleaseActionUpgrade
}

// handleRequest reports whether annotation key carries a request not handled yet: a value
// equal to the reconcile-request annotation's (so a stale one is not replayed by an
// unrelated reconcile request) and different from *handled, which it then records.
func handleRequest(obj *helmv1.HelmRelease, key string, handled *string) bool {
	v := obj.GetAnnotations()[key]
	token, ok := meta.ReconcileAnnotationValue(obj.GetAnnotations())
	if v == "" || !ok || v != token || v == *handled {
		return false
	}
	*handled = v
	return true
}

// desiredChanged reports whether the desired state differs from the last attempt's.
func desiredChanged(obj *helmv1.HelmRelease, sc *hrScope) bool {
	st := obj.Status
	return st.LastAttemptedGeneration != obj.Generation || st.LastAttemptedRevision != sc.revision ||
		st.LastAttemptedConfigDigest != sc.configDigest
}

// reconcileRelease observes the release in Helm's storage, as the HelmRelease's identity, and
// runs one action for what it sees, then observes again, until the release is in sync or an
// action fails: install when absent, upgrade when out of sync, failed (while retries remain)
// or when the spec, chart or values changed, unlock a revision left pending by a stopped
// controller. A release whose records belong to another HelmRelease is never touched. An
// in-sync release is checked for drift (see reconcileDrift). With
// spec.test.enable, the tests run after each install and upgrade, and on an in-sync release
// whose selected tests have not run. A HelmRelease that never attempted a release adopts one
// it finds in sync instead of upgrading it (see adoptRelease). A reconcile.weir.dev/resetAt
// request clears the failure counters; a reconcile.weir.dev/forceAt request runs an install or
// upgrade even when the release is in sync or out of retries. It sets Released (True after a
// successful install, upgrade or adoption, False with the failure) and TestSuccess (removed
// when tests are disabled).
func (r *HelmReleaseReconciler) reconcileRelease(ctx context.Context, sc *hrScope) error {
	obj := sc.obj
	target := release.Target{
		Name:             sc.releaseName,
		Namespace:        obj.GetReleaseNamespace(),
		StorageNamespace: obj.GetStorageNamespace(),
		MaxHistory:       obj.GetMaxHistory(),
	}
	if err := r.reconcileMove(ctx, obj, target); err != nil {
		return err
	}
	runner, err := r.runnerFor(ctx, obj, target)
	if err != nil {
		return err
	}
	owner := ownerLabels(obj)
	desired := release.Desired{ChartName: sc.chart.Metadata.Name, ChartVersion: sc.chart.Metadata.Version, ConfigDigest: sc.configDigest}
	if handleRequest(obj, helmv1.ResetRequestAnnotation, &obj.Status.LastHandledResetAt) {
		obj.Status.ClearFailures()
	}
	// A forced release is a new desired state: it runs even if in sync or out of retries.
	forced := handleRequest(obj, helmv1.ForceRequestAnnotation, &obj.Status.LastHandledForceAt)
	changed := forced || desiredChanged(obj, sc)
	// Before its first attempt every HelmRelease's desired state is "changed"; a release it
	// finds in sync then is adopted, not upgraded (no new revision, no hooks, no rollout).
	adopting := !forced && neverAttempted(obj)
	if changed {
		obj.Status.ClearFailures()
	}
	if !testsEnabled(obj) {
		conditions.Delete(obj, helmv1.TestSuccessCondition)
	}
	for range maxActions {
		state, err := runner.Observe(owner, desired)
		if err != nil {
			return steps.Failed(helmv1.GetLastReleaseFailedReason, err)
		}
		if adopting && state.Kind == release.InSync {
			changed = false
		}
		act := decide(obj, state, changed)
		switch act {
		case actNone:
			recordAttempt(obj, sc, runner, "")
			if adopting {
				if err := r.adoptRelease(ctx, sc, runner, state.Current, owner); err != nil {
					return err
				}
			}
			if historyStale(obj.Status.History, state.Current) {
				r.refreshHistory(ctx, obj, runner, sc, false)
			}
			if err := r.reconcileManifest(ctx, sc, state.Current.Manifest, runner.Target.Namespace); err != nil {
				return err
			}
			if testsEnabled(obj) {
				switch release.Tested(state.Current, testOptions(obj)) {
				case release.TestsNotRun:
					if err := r.reconcileTests(ctx, sc, runner, lastAction(obj)); err != nil {
						return err
					}
				case release.TestsFailed:
					if !ignoreTestFailures(obj, lastAction(obj)) {
						return testsStallError(obj, runner)
					}
				}
			}
			if !conditions.IsTrue(obj, helmv1.ReleasedCondition) {
				conditions.MarkTrue(obj, helmv1.ReleasedCondition, meta.SucceededReason, "Helm release %s.v%d with chart %s is up to date",
					releaseRef(runner), state.Current.Version, sc.chartRef())
			}
			return nil
		case actStall:
			return stallError(obj, runner, state)
		case actWait:
			return steps.Waiting(meta.ProgressingReason, r.DependencyRequeue, fmt.Errorf("another action is running on release %s", releaseRef(runner)))
		case actUnlock:
			was := state.Current.Info.Status
			if err := runner.Unlock(state.Current); err != nil {
				return err
			}
			r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeWarning, helmv1.UnlockedReason, string(act),
				"release %s.v%d was left %s by an interrupted action; marked it failed to retry", releaseRef(runner), state.Current.Version, was)
			r.refreshHistory(ctx, obj, runner, sc, false)
		case actInstall, actUpgrade:
			if err := r.gateRelease(ctx, sc, runner, state, changed); err != nil {
				return err
			}
			if err := r.release(ctx, sc, runner, act, state); err != nil {
				return err
			}
			changed = false
		}
		// What an action of this reconcile made or changed is not adopted.
		adopting = false
	}
	return fmt.Errorf("release %s did not settle after %d actions", releaseRef(runner), maxActions)
}

// reconcileMove uninstalls the release this HelmRelease made before when the spec now names
// another one (a new release name, target namespace or storage namespace), so it is not left
// behind; then the history starts afresh.
func (r *HelmReleaseReconciler) reconcileMove(ctx context.Context, obj *helmv1.HelmRelease, target release.Target) error {
	prev := previousTarget(obj)
	if prev == nil || (prev.Name == target.Name && prev.Namespace == target.Namespace && prev.StorageNamespace == target.StorageNamespace) {
		return nil
	}
	if err := r.uninstallTarget(ctx, obj, *prev); err != nil {
		return steps.Failed(helmv1.UninstallFailedReason, fmt.Errorf("uninstalling release %s/%s, which the spec no longer names: %w", prev.Namespace, prev.Name, err))
	}
	obj.Status.History = nil
	obj.Status.StorageNamespace = ""
	obj.Status.Inventory = nil
	return nil
}

// reconcileManifest reads the objects of the in-sync release's manifest, as obj's identity,
// into status.inventory, and checks them for drift (see reconcileDrift).
func (r *HelmReleaseReconciler) reconcileManifest(ctx context.Context, sc *hrScope, manifest, namespace string) error {
	obj := sc.obj
	cluster, err := r.Identities.For(ctx, identity.Target{Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName, KubeConfig: obj.Spec.KubeConfig})
	if err != nil {
		return err
	}
	objects, err := render.Objects(manifest, namespace, cluster.Mapper)
	if err != nil {
		return steps.Failed(helmv1.GetLastReleaseFailedReason, fmt.Errorf("reading the objects of the release manifest: %w", err))
	}
	obj.Status.Inventory = inventoryOf(objects)
	return r.reconcileDrift(ctx, sc, cluster, objects)
}

// runnerFor returns a Helm runner for the release t acting as obj's identity.
func (r *HelmReleaseReconciler) runnerFor(ctx context.Context, obj *helmv1.HelmRelease, t release.Target) (*release.Runner, error) {
	cluster, err := r.Identities.For(ctx, identity.Target{
		Namespace:          obj.Namespace,
		ServiceAccountName: obj.Spec.ServiceAccountName,
		KubeConfig:         obj.Spec.KubeConfig,
	})
	if err != nil {
		return nil, err
	}
	getter, err := r.helmGetter(obj, cluster.Config, t.Namespace)
	if err != nil {
		return nil, steps.Failed(helmv1.InitFailedReason, fmt.Errorf("building Helm's client as %s: %w", cluster.Identity, err))
	}
	log := ctrl.LoggerFrom(ctx).WithName("helm")
	runner, err := release.NewRunner(getter, t, func(format string, args ...any) { log.V(2).Info(fmt.Sprintf(format, args...)) })
	if err != nil {
		return nil, steps.Failed(helmv1.InitFailedReason, err)
	}
	return runner, nil
}

// release runs an install or upgrade and records its outcome: the Released condition, the
// failure counters, the history, and an event on success (failures are announced by the
// outcome's warning). A failure is remediated (see remediate) and retried while the action's
// retries last, then stalls; one because the API server was unavailable before Helm stored a
// release is no failure of the release: it is retried with backoff and counts nothing. A chart whose values schema or crds/ is refused stalls before
// anything is applied (helmv1.ValuesSchemaRefusedReason, helmv1.CRDsRefusedReason), as does a
// manifest of more than --max-objects-per-unit objects (helmv1.TooManyObjectsReason), counting
// no failure.
func (r *HelmReleaseReconciler) release(ctx context.Context, sc *hrScope, runner *release.Runner, act nextAction, state release.State) error {
	obj := sc.obj
	action := helmv1.ReleaseActionInstall
	if act == actUpgrade {
		action = helmv1.ReleaseActionUpgrade
	}
	recordAttempt(obj, sc, runner, action)
	if err := refuseChart(sc, action); err != nil {
		return err
	}
	var (
		rel *helmrelease.Release
		err error
	)
	err = applyCRDs(sc, runner, action)
	switch {
	case errors.Is(err, release.ErrCRDsRefused):
		return steps.Stalled(helmv1.CRDsRefusedReason, fmt.Errorf("chart %s: %w", sc.chartRef(), err))
	case err != nil:
	case action == helmv1.ReleaseActionInstall:
		opts := installOptions(sc, state.Current != nil)
		r.recordActionStart(ctx, sc, runner, action, opts.ActionOptions)
		rel, err = runner.Install(ctx, opts)
	default:
		opts := upgradeOptions(sc)
		r.recordActionStart(ctx, sc, runner, action, opts.ActionOptions)
		rel, err = runner.Upgrade(ctx, opts)
	}
	var tooMany *postrender.TooManyObjectsError
	if errors.As(err, &tooMany) {
		// Helm stopped before recording or applying anything: no failure to count or remediate.
		err = fmt.Errorf("chart %s: %w", sc.chartRef(), tooMany)
		conditions.MarkFalse(obj, helmv1.ReleasedCondition, helmv1.TooManyObjectsReason, "%s", err)
		return steps.Stalled(helmv1.TooManyObjectsReason, err)
	}
	before := snapshotKey(obj.Status.History.Latest())
	read := r.refreshHistory(ctx, obj, runner, sc, err == nil)
	if err != nil {
		reason := helmv1.InstallFailedReason
		if action == helmv1.ReleaseActionUpgrade {
			reason = helmv1.UpgradeFailedReason
		}
		apiDown := steps.APIUnavailable(err)
		err = fmt.Errorf("Helm %s failed for release %s with chart %s: %w", action, releaseRef(runner), sc.chartRef(), err)
		conditions.MarkFalse(obj, helmv1.ReleasedCondition, reason, "%s", err)
		if apiDown && (!read || snapshotKey(obj.Status.History.Latest()) == before) {
			// The API server was unavailable (429, 5xx, a timeout) before Helm stored a
			// release, or too unavailable to tell: there is nothing to remediate and no
			// failure to count, which would use up the retries and stall the release until
			// its next change. Retry with backoff like any transient error; the next run
			// observes whatever Helm did store (a pending revision is unlocked, a failed
			// one upgraded again, and counted if that fails).
			return steps.Failed(reason, err)
		}
		return r.failed(ctx, sc, runner, action, reason, err)
	}
	reason := helmv1.InstallSucceededReason
	if action == helmv1.ReleaseActionUpgrade {
		reason = helmv1.UpgradeSucceededReason
	}
	conditions.MarkTrue(obj, helmv1.ReleasedCondition, reason, "Helm %s succeeded for release %s.v%d with chart %s",
		action, releaseRef(runner), rel.Version, sc.chartRef())
	obj.Status.ObservedPostRenderersDigest = postRenderersDigest(obj)
	r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeNormal, reason, string(action),
		"%s", conditions.GetMessage(obj, helmv1.ReleasedCondition))
	if testsEnabled(obj) {
		// The counters are cleared once the tests pass: failing tests count as failures.
		return r.reconcileTests(ctx, sc, runner, action)
	}
	obj.Status.ClearFailures()
	return nil
}

// failed counts a failure of action (its install or upgrade, or its tests), remediates it and
// returns the outcome with reason: transient while retries remain, stalled after; with
// strategy RetryOnFailure, a wait of retryInterval (at least --min-interval), for ever.
func (r *HelmReleaseReconciler) failed(ctx context.Context, sc *hrScope, runner *release.Runner, action helmv1.ReleaseAction, reason string, err error) error {
	tested := reason == helmv1.TestFailedReason
	obj := sc.obj
	obj.Status.Failures++
	if action == helmv1.ReleaseActionInstall {
		obj.Status.InstallFailures++
	} else {
		obj.Status.UpgradeFailures++
	}
	if remReason, remErr := r.remediate(ctx, sc, runner, action, tested); remErr != nil {
		return steps.Failed(remReason, fmt.Errorf("%w; %w", err, remErr))
	}
	if rem := remediationFor(obj, action); rem.off {
		return steps.Waiting(reason, r.Intervals.Floor(obj, rem.retryField, rem.retryInterval), err)
	}
	if retriesExhausted(obj, action) {
		return steps.Stalled(reason, err)
	}
	return steps.Failed(reason, err)
}

// applyCRDs applies the chart's CRDs before action unless its policy is Skip: Helm never
// applies them itself (see installOptions), so they are checked in one place.
func applyCRDs(sc *hrScope, runner *release.Runner, action helmv1.ReleaseAction) error {
	policy := crdsPolicy(sc.obj, action)
	if policy == helmv1.CRDsSkip {
		return nil
	}
	return runner.ApplyCRDs(sc.chart, policy == helmv1.CRDsCreateReplace, sc.obj.GetTimeout())
}

// recordAttempt records what is being attempted in status; action is empty when nothing runs
// because the release is in sync.
func recordAttempt(obj *helmv1.HelmRelease, sc *hrScope, runner *release.Runner, action helmv1.ReleaseAction) {
	st := &obj.Status
	st.LastAttemptedGeneration = obj.Generation
	st.LastAttemptedRevision = sc.revision
	st.LastAttemptedRevisionDigest = ""
	if sc.oci {
		st.LastAttemptedRevisionDigest = sc.artifact.Digest
	}
	st.LastAttemptedValuesChecksum = sc.valuesChecksum
	st.LastAttemptedConfigDigest = sc.configDigest
	st.StorageNamespace = runner.Target.StorageNamespace
	if action != "" {
		st.LastAttemptedReleaseAction = action
	}
}

// stallError explains why no action runs: the release is someone else's, or the retries for
// the current desired state are used up (the last failure's message, from Released or
// TestSuccess).
func stallError(obj *helmv1.HelmRelease, runner *release.Runner, state release.State) error {
	if state.Kind == release.Unowned {
		return steps.Stalled(helmv1.ReleaseNotOwnedReason, fmt.Errorf("release %s (storage namespace '%s') belongs to another owner (%s); set another spec.releaseName",
			releaseRef(runner), runner.Target.StorageNamespace, state.Why))
	}
	if c := conditions.Get(obj, helmv1.ReleasedCondition); c != nil && c.Status != "True" {
		return steps.Stalled(c.Reason, errors.New(c.Message))
	}
	if c := conditions.Get(obj, helmv1.TestSuccessCondition); c != nil && c.Status != "True" {
		return steps.Stalled(c.Reason, errors.New(c.Message))
	}
	return steps.Stalled(helmv1.RetriesExceededReason, fmt.Errorf("release %s is %s after failed attempts; change the spec, chart or values to retry",
		releaseRef(runner), state.Kind))
}

// refreshHistory rebuilds status.history from Helm's storage; made says the newest revision
// was just made from the current chart artifact. A failure to read is logged only: history
// is informational.
func (r *HelmReleaseReconciler) refreshHistory(ctx context.Context, obj *helmv1.HelmRelease, runner *release.Runner, sc *hrScope, made bool) bool {
	revs, err := runner.History()
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "reading the release history")
		return false
	}
	ociDigest := ""
	if made && sc.oci {
		ociDigest = sc.artifact.Digest
	}
	obj.Status.History = snapshots(revs, obj.Status.History, ociDigest)
	return true
}

// snapshotKey identifies the release revision s records; "" for none.
func snapshotKey(s *helmv1.Snapshot) string {
	if s == nil {
		return ""
	}
	return fmt.Sprintf("%s/%s.v%d", s.Namespace, s.Name, s.Version)
}

// releaseRef is "<namespace>/<name>" of the runner's release.
func releaseRef(runner *release.Runner) string {
	return runner.Target.Namespace + "/" + runner.Target.Name
}
