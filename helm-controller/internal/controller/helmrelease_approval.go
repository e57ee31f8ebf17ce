package controller

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	helmrelease "helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/gate"
	"weir.dev/pkg/helm/render"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/steps"
)

// The approval gate (spec.approval: Manual) and the sync windows (spec.syncWindows) stand
// before every install and upgrade. A new desired state (a new chart revision, new values, a
// spec change, a forced release) is planned: its manifest is rendered (a dry-run install, see
// release.Render) and compared, object by object, with the manifest of the release's current
// revision: what it creates, changes and deletes. The plan is recorded in status.plan and
// announced; the install or upgrade runs once the annotation reconcile.weir.dev/approve names
// the plan's revision (the chart revision), and when the windows allow it. An upgrade of an
// unchanged desired state (a failed or out-of-sync release) only corrects drift: it needs an
// approval only under spec.driftApproval: Manual, and waits for a window only under
// spec.selfHeal: InWindow, as the drift correction of an in-sync release does.

// now is the reconciler's clock: Clock when set (tests), else the wall clock.
func (r *HelmReleaseReconciler) now() time.Time {
	if r.Clock != nil {
		return r.Clock.Now()
	}
	return time.Now()
}

// gateRelease decides whether the install or upgrade of state may run now; when it may not,
// it records the hold in sc.held and returns steps.ErrStop, which ends the run (see
// summarizeHelmRelease). isNew says the desired state changed since the last attempt.
func (r *HelmReleaseReconciler) gateRelease(ctx context.Context, sc *hrScope, runner *release.Runner, state release.State, isNew bool) error {
	obj := sc.obj
	g := obj.Spec.Gate
	if !g.ManualApproval() && len(g.SyncWindows) == 0 {
		return nil
	}
	windows, err := gate.ParseWindows(g.SyncWindows)
	if err != nil {
		return steps.Stalled(meta.InvalidSpecReason, err)
	}
	now := r.now()
	if g.ManualApproval() && (isNew || g.DriftNeedsApproval()) {
		hold, err := r.approveRelease(ctx, sc, runner, state, isNew, now)
		if err != nil {
			return err
		}
		if hold != nil {
			sc.held = hold
			return steps.ErrStop
		}
	}
	if hold := r.windowHold(sc, windows, isNew, now); hold != nil {
		sc.held = hold
		return steps.ErrStop
	}
	return nil
}

// approveRelease plans the release and returns the hold of a plan waiting for approval; nil
// when the plan was approved or changes nothing.
func (r *HelmReleaseReconciler) approveRelease(ctx context.Context, sc *hrScope, runner *release.Runner, state release.State, isNew bool, now time.Time) (*gate.Hold, error) {
	obj := sc.obj
	plan, err := r.planRelease(ctx, sc, runner, state, now)
	if err != nil {
		return nil, err
	}
	plan.Drift = !isNew
	prev := obj.Status.Plan
	if prev != nil && prev.Approval != "" && prev.Revision == plan.Revision && prev.Digest == plan.Digest {
		// Approved already; a retry after a failed install or upgrade.
		return nil, nil
	}
	if gate.Empty(plan) && state.Current != nil {
		return nil, nil
	}
	if gate.Same(prev, plan) {
		plan.ComputedAt = prev.ComputedAt
	}
	value := obj.GetAnnotations()[meta.ApproveAnnotation]
	switch gate.Judge(value, obj.Status.LastHandledApproval, plan.Revision) {
	case gate.Approved:
		plan.Approval = value
		obj.Status.Plan = plan
		obj.Status.LastHandledApproval = value
		r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeNormal, meta.ApprovedReason, "approve",
			"approved by %s=%s: applying %s", meta.ApproveAnnotation, value, gate.Summary(plan))
		return nil, nil
	case gate.Stale:
	default:
		value = ""
	}
	obj.Status.Plan = plan
	hold := gate.ForApproval(plan, value, obj.Status.LastHandledApproval, now)
	if c := conditions.Get(obj, meta.ApprovalRequiredCondition); c == nil || c.Message != hold.Message {
		reason, kind := meta.PlanComputedReason, corev1.EventTypeNormal
		if value != "" {
			reason, kind = meta.ApprovalRefusedReason, corev1.EventTypeWarning
		}
		r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), kind, reason, "approve", "%s", hold.Message)
	}
	return hold, nil
}

// planRelease renders the desired manifest and compares its objects with those of the
// current revision's manifest (none when there is no deployed revision).
func (r *HelmReleaseReconciler) planRelease(ctx context.Context, sc *hrScope, runner *release.Runner, state release.State, now time.Time) (*meta.Plan, error) {
	obj := sc.obj
	manifest, err := runner.Render(ctx, actionOptions(sc, actionSpec{}))
	if err != nil {
		err = fmt.Errorf("rendering chart %s to plan the release: %w", sc.chartRef(), err)
		return nil, steps.Failed(helmv1.UpgradeFailedReason, err)
	}
	cluster, err := r.Identities.For(ctx, identity.Target{Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName, KubeConfig: obj.Spec.KubeConfig})
	if err != nil {
		return nil, err
	}
	desired, err := render.Objects(manifest, runner.Target.Namespace, cluster.Mapper)
	if err != nil {
		return nil, steps.Failed(helmv1.UpgradeFailedReason, fmt.Errorf("reading the rendered manifest: %w", err))
	}
	var current []*unstructured.Unstructured
	if cur := state.Current; cur != nil && cur.Info != nil && cur.Info.Status != helmrelease.StatusUninstalled {
		if current, err = render.Objects(cur.Manifest, runner.Target.Namespace, cluster.Mapper); err != nil {
			return nil, steps.Failed(helmv1.GetLastReleaseFailedReason, fmt.Errorf("reading the release manifest: %w", err))
		}
	}
	plan := &meta.Plan{
		Revision:   sc.revision,
		Digest:     fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(sc.revision+"\n"+sc.configDigest+"\n"+manifest))),
		ComputedAt: metaTime(now),
	}
	diffManifests(plan, current, desired)
	return plan, nil
}

// diffManifests adds to plan the objects of desired missing from current (create), those
// that differ (change), and those of current desired no longer has (delete).
func diffManifests(plan *meta.Plan, current, desired []*unstructured.Unstructured) {
	have := map[string]*unstructured.Unstructured{}
	for _, o := range current {
		have[object.UnstructuredToObjMetadata(o).String()] = o
	}
	want := map[string]bool{}
	for _, o := range desired {
		id := object.UnstructuredToObjMetadata(o).String()
		want[id] = true
		switch old, ok := have[id]; {
		case !ok:
			gate.Add(plan, id, meta.PlanCreate)
		case !equality.Semantic.DeepEqual(old.Object, o.Object):
			gate.Add(plan, id, meta.PlanChange)
		}
	}
	for _, o := range current {
		if id := object.UnstructuredToObjMetadata(o).String(); !want[id] {
			gate.Add(plan, id, meta.PlanDelete)
		}
	}
}
