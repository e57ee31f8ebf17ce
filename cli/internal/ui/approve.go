package ui

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

// planView is the plan section of a Kustomization's or HelmRelease's page.
type planView struct {
	Summary string
	// Waiting says the plan waits for approval; Approval is the value that approved it.
	Waiting  bool
	Approval string
	Objects  []meta.PlanObject
	// More counts the objects the plan changes beyond those listed.
	More int
}

// planOf returns the plan section of u, nil when it has none.
func planOf(u *unstructured.Unstructured) *planView {
	p := objects.PlanOf(u)
	if p == nil {
		return nil
	}
	return &planView{
		Summary: objects.PlanSummary(p), Waiting: objects.PendingPlan(u) != nil, Approval: p.Approval,
		Objects: p.Objects, More: max(0, int(p.Create+p.Change+p.Delete)-len(p.Objects)),
	}
}

// approve approves the plan of revision (the one the page showed), as `weir approve` does,
// with the user's own rights: one patch of the approve and reconcile-request annotations,
// which the API server refuses to a user who may not patch the object. A revision that is no
// longer the plan's approves nothing and names the current one.
func (s *Server) approve(ctx context.Context, k *objects.Kind, u *unstructured.Unstructured, revision string) (string, int) {
	ref := fmt.Sprintf("%s %s/%s", k.Kind, u.GetNamespace(), u.GetName())
	if !objects.HasGate(k) {
		return "only Kustomizations and HelmReleases have plans to approve", http.StatusNotFound
	}
	if revision == "" {
		return "approve names the revision whose plan you approve", http.StatusBadRequest
	}
	plan := objects.PendingPlan(u)
	value, err := objects.ApprovalValue(u, revision, time.Now())
	if err != nil {
		return err.Error(), http.StatusConflict
	}
	if _, err := objects.Approve(ctx, s.client, u, value); err != nil {
		return apiMessage("approving the plan of "+ref, err), statusOf(err)
	}
	return fmt.Sprintf("Approved %s of %s; %s will apply it.", objects.PlanSummary(plan), ref, objects.ControllerOf(k)), http.StatusOK
}
