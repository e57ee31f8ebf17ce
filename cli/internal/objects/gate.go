package objects

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
)

// HasGate reports whether objects of k have an approval gate and sync windows.
func HasGate(k *Kind) bool { return k.Kind == "Kustomization" || k.Kind == "HelmRelease" }

// PlanOf returns u's status.plan, nil when it has none.
func PlanOf(u *unstructured.Unstructured) *meta.Plan {
	m, ok, _ := unstructured.NestedMap(u.Object, "status", "plan")
	if !ok {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	p := &meta.Plan{}
	if json.Unmarshal(b, p) != nil {
		return nil
	}
	return p
}

// PendingPlan returns the plan of u that waits for approval, nil when none does.
func PendingPlan(u *unstructured.Unstructured) *meta.Plan {
	p := PlanOf(u)
	if p == nil || p.Approval != "" {
		return nil
	}
	for _, c := range Conditions(u) {
		if c.Type == meta.ApprovalRequiredCondition && c.Status == "True" {
			return p
		}
	}
	return nil
}

// ApprovalValue returns the value of the approve annotation that approves revision (the
// pending plan's when empty) of u: the revision itself, or, when that value was used already
// (a changed spec or drift at the same revision), the revision with a `#<time>` suffix. It
// fails when no plan waits, or when revision is not the pending plan's, naming the current one.
func ApprovalValue(u *unstructured.Unstructured, revision string, now time.Time) (string, error) {
	p := PendingPlan(u)
	if p == nil {
		return "", fmt.Errorf("%s %s/%s has no plan waiting for approval", u.GetKind(), u.GetNamespace(), u.GetName())
	}
	if revision == "" {
		revision = p.Revision
	}
	if revision != p.Revision {
		return "", fmt.Errorf("revision %s is stale: the plan waiting for approval is for revision %s (%s)", revision, p.Revision, PlanSummary(p))
	}
	handled, _, _ := unstructured.NestedString(u.Object, "status", "lastHandledApproval")
	annotated := u.GetAnnotations()[meta.ApproveAnnotation]
	if handled == revision || annotated == revision {
		return fmt.Sprintf("%s#%d", revision, now.Unix()), nil
	}
	return revision, nil
}

// Approve sets u's approve annotation to value and requests a reconcile, in one patch; it
// returns the reconcile request's token.
func Approve(ctx context.Context, c client.Client, u *unstructured.Unstructured, value string) (string, error) {
	return annotateAndRequest(ctx, c, u, meta.ApproveAnnotation, value)
}

// OverrideWindow asks the controller to apply u once outside its sync windows, and requests a
// reconcile, in one patch; it returns the reconcile request's token.
func OverrideWindow(ctx context.Context, c client.Client, u *unstructured.Unstructured) (string, error) {
	return annotateAndRequest(ctx, c, u, meta.OverrideWindowAnnotation, time.Now().UTC().Format(time.RFC3339Nano))
}

func annotateAndRequest(ctx context.Context, c client.Client, u *unstructured.Unstructured, key, value string) (string, error) {
	requested := time.Now().UTC().Format(time.RFC3339Nano)
	patch := client.MergeFrom(u.DeepCopy())
	annotations := u.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[key] = value
	annotations[meta.ReconcileRequestAnnotation] = requested
	u.SetAnnotations(annotations)
	return requested, c.Patch(ctx, u, patch)
}

// PlanSummary says the plan as the controllers' status does: "revision R: 3 to create, 2 to
// change, 1 to delete". (The controllers' wording is weir.dev/pkg/gate.Summary; the CLI does
// not link the controllers' condition machinery for it.)
func PlanSummary(p *meta.Plan) string {
	what := "revision " + p.Revision
	if p.Drift {
		what += " (drift correction)"
	}
	return fmt.Sprintf("%s: %d to create, %d to change, %d to delete", what, p.Create, p.Change, p.Delete)
}
