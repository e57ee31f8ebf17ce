package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/gate"
	"weir.dev/pkg/steps"
)

// The approval gate (spec.approval: Manual) and the sync windows (spec.syncWindows) stand
// between the build and the apply. A run they hold applies and prunes nothing, and is a full
// observation otherwise: Ready, ApprovalRequired or SyncWindowClosed say what waits for what
// (gate.Hold), status.plan says what the approval would apply.
//
// A desired state is "new" when its set digest (the built objects with their ownership labels,
// as status.history records it) differs from the one last applied successfully: a new revision
// that builds the same objects, or a spec change that does not change them (an interval, a
// timeout), is not new and needs no approval. Re-applying the applied set only corrects drift:
// it needs an approval only under spec.driftApproval: Manual, and waits for a window only under
// spec.selfHeal: InWindow.

// now is the reconciler's clock: Clock when set (tests), else the wall clock.
func (r *KustomizationReconciler) now() time.Time {
	if r.Clock != nil {
		return r.Clock.Now()
	}
	return time.Now()
}

// reconcileGate holds a new desired state until its plan is approved and the sync windows
// allow applying it (see above). It sets nothing itself: a hold ends the run with sc.held,
// which summarizeKustomization presents (ApprovalRequired, SyncWindowClosed).
func (r *KustomizationReconciler) reconcileGate(ctx context.Context, sc *ksScope) error {
	obj := sc.obj
	g := obj.Spec.Gate
	if sc.skipped || (!g.ManualApproval() && len(g.SyncWindows) == 0) {
		return nil
	}
	now := r.now()
	windows, err := gate.ParseWindows(g.SyncWindows)
	if err != nil {
		return steps.Stalled(meta.InvalidSpecReason, err)
	}
	// The digest is of the objects as applied: with their ownership labels.
	labeller := ssa.NewResourceManager(nil, nil, ssa.Owner{Field: r.ControllerName, Group: OwnerGroup})
	labeller.SetOwnerLabels(sc.objects, obj.Name, obj.Namespace)
	isNew := sc.setDigest() != appliedDigest(obj)

	if g.ManualApproval() && (isNew || g.DriftNeedsApproval()) {
		hold, err := r.approvalGate(ctx, sc, isNew, now)
		if err != nil || hold != nil {
			sc.held = hold
			return stopOr(err)
		}
	}
	if hold := r.windowGate(sc, windows, isNew, now); hold != nil {
		sc.held = hold
		return steps.ErrStop
	}
	return nil
}

// stopOr ends the run: with err when there is one, else as held.
func stopOr(err error) error {
	if err != nil {
		return err
	}
	return steps.ErrStop
}

// appliedDigest is the set digest of the revision last applied successfully, "" when none.
func appliedDigest(obj *kustomizev1.Kustomization) string {
	for _, h := range obj.Status.History {
		if h.LastReconciledStatus == kustomizev1.ReconciliationSucceededReason && h.Metadata["revision"] == obj.Status.LastAppliedRevision {
			return h.Digest
		}
	}
	return ""
}

// approvalGate computes the plan of the desired state and returns the hold of a plan waiting
// for approval; nil when the plan was approved, or changes nothing. A new plan, and an approval
// refused as stale, are announced in an event.
func (r *KustomizationReconciler) approvalGate(ctx context.Context, sc *ksScope, isNew bool, now time.Time) (*gate.Hold, error) {
	obj := sc.obj
	revision := sc.artifact.Revision
	prev := obj.Status.Plan
	if isNew && prev != nil && prev.Approval != "" && prev.Revision == revision && prev.Digest == sc.setDigest() {
		// Approved already; a retry after a failed apply.
		return nil, nil
	}
	plan, err := r.plan(ctx, sc, now)
	if err != nil {
		return nil, err
	}
	plan.Drift = !isNew
	if gate.Empty(plan) {
		return nil, nil
	}
	if gate.Same(prev, plan) {
		plan.ComputedAt = prev.ComputedAt
	}
	value := obj.GetAnnotations()[meta.ApproveAnnotation]
	switch gate.Judge(value, obj.Status.LastHandledApproval, revision) {
	case gate.Approved:
		plan.Approval = value
		obj.Status.Plan = plan
		obj.Status.LastHandledApproval = value
		r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeNormal, meta.ApprovedReason, steps.ActionReconcile,
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
		r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), kind, reason, steps.ActionReconcile, "%s", hold.Message)
	}
	return hold, nil
}

// plan dry-runs every built object as the Kustomization's identity, with its apply policies,
// and lists the objects of the inventory prune would delete: what applying would create,
// change and delete. Objects in a namespace, or of a kind, the set itself creates count as
// created.
func (r *KustomizationReconciler) plan(ctx context.Context, sc *ksScope, now time.Time) (*meta.Plan, error) {
	obj := sc.obj
	manager, _, err := r.resourceManager(ctx, obj)
	if err != nil {
		return nil, err
	}
	plan := &meta.Plan{Revision: sc.artifact.Revision, Digest: sc.setDigest(), ComputedAt: metaTime(now)}
	opts := ssa.DiffOptions{
		Exclusions:           map[string]string{SSAAnnotation: "Ignore"},
		IfNotPresentSelector: map[string]string{SSAAnnotation: "IfNotPresent"},
		Force:                obj.Spec.Force,
	}
	for _, o := range definitionsFirst(sc.objects) {
		id := object.UnstructuredToObjMetadata(o).String()
		entry, _, _, err := manager.Diff(ctx, o.DeepCopy(), opts)
		switch {
		case err != nil && (apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err) || isNoKindMatch(err)):
			gate.Add(plan, id, meta.PlanCreate)
		case err != nil:
			err = fmt.Errorf("planning revision %s: %w", sc.artifact.Revision, err)
			conditions.MarkTrue(obj, kustomizev1.ApplyFailedCondition, kustomizev1.ApplyFailedReason, "%s", err)
			return nil, steps.Failed(kustomizev1.ApplyFailedReason, err)
		case entry.Action == ssa.CreatedAction:
			gate.Add(plan, id, meta.PlanCreate)
		case entry.Action == ssa.ConfiguredAction:
			gate.Add(plan, id, meta.PlanChange)
		}
	}
	if !obj.Spec.Prune {
		return plan, nil
	}
	stale, err := staleObjects(obj.Status.Inventory, inventoryOf(sc.objects))
	if err != nil {
		return nil, err
	}
	owner := manager.GetOwnerLabels(obj.Name, obj.Namespace)
	for _, o := range stale {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		if err := manager.Client().Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
			if apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err) {
				continue
			}
			return nil, err
		}
		if live.GetAnnotations()[PruneAnnotation] == "disabled" || !hasLabels(live, owner) {
			continue
		}
		gate.Add(plan, object.UnstructuredToObjMetadata(o).String(), meta.PlanDelete)
	}
	return plan, nil
}

// isNoKindMatch reports a dry run of a kind the API server does not know yet.
func isNoKindMatch(err error) bool {
	var noMatch *apimeta.NoKindMatchError
	return errors.As(err, &noMatch)
}

func hasLabels(o *unstructured.Unstructured, want map[string]string) bool {
	for k, v := range want {
		if o.GetLabels()[k] != v {
			return false
		}
	}
	return true
}

// definitionsFirst returns objects with CRDs and Namespaces first, as the apply stages them,
// so a dry run of an object in a new namespace is recognised as a creation.
func definitionsFirst(objects []*unstructured.Unstructured) []*unstructured.Unstructured {
	var first, rest []*unstructured.Unstructured
	for _, o := range objects {
		switch o.GroupVersionKind().Kind {
		case "CustomResourceDefinition", "Namespace":
			first = append(first, o)
		default:
			rest = append(rest, o)
		}
	}
	return append(first, rest...)
}
