package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

// gated returns a Kustomization whose plan of revision waits for approval, as
// kustomize-controller records it.
func gated(ns, name, revision string) *kustomizev1.Kustomization {
	msg := "revision " + revision + ": 1 to create, 0 to change, 1 to delete"
	k := kustomization(ns, name, []metav1.Condition{
		cond(meta.ReadyCondition, metav1.ConditionFalse, meta.ApprovalRequiredReason, msg),
		cond(meta.ApprovalRequiredCondition, metav1.ConditionTrue, meta.ApprovalRequiredReason, msg),
	})
	k.Spec.Approval = meta.ApprovalManual
	k.Status.Plan = &meta.Plan{Revision: revision, Digest: "sha256:0", Create: 1, Delete: 1, ComputedAt: metav1.Now(),
		Objects: []meta.PlanObject{{ID: ns + "_new__ConfigMap", Action: meta.PlanCreate}, {ID: ns + "_old__ConfigMap", Action: meta.PlanDelete}}}
	return k
}

// TestApproveInUI: the page of a Kustomization waiting for approval shows the plan and an
// Approve button for its revision; the approval is made with the user's own rights, so a user
// who may not patch Kustomizations sees the button disabled and is refused by the API server;
// a revision that is no longer the plan's approves nothing and names the current one.
func TestApproveInUI(t *testing.T) {
	ns := env.Namespace(t)
	create(t, gated(ns, "prod", "main@sha1:2"))
	page := "/objects/kustomization/" + ns + "/prod"

	// Alice may read but not patch.
	alice := "alice-" + ns
	grant(t, alice, ns, readOnly...)
	s, base := serveWith(t, Options{Config: impersonating(alice)})
	_, body := fetch(t, base+page)
	for _, want := range []string{
		`id="plan"`, "revision main@sha1:2: 1 to create, 0 to change, 1 to delete", ns + "_old__ConfigMap", "Waiting for approval",
		`data-action="approve" disabled`, "may not patch kustomizations in namespace " + ns,
		"/approve?revision=main%40sha1%3a2",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("alice's page lacks %q", want)
		}
	}
	code, msg := post(t, base+page+"/approve?revision="+url.QueryEscape("main@sha1:2"), map[string]string{"X-Weir-Token": s.token})
	if code != http.StatusForbidden || !strings.Contains(msg, "forbidden by Kubernetes RBAC") {
		t.Errorf("alice's approval: %d %s", code, msg)
	}
	if v := getKustomization(t, ns, "prod").Annotations[meta.ApproveAnnotation]; v != "" {
		t.Fatalf("alice's forbidden approval patched the object: %q", v)
	}

	// Bob may patch.
	bob := "bob-" + ns
	grant(t, bob, ns, readOnly...)
	grant(t, bob, ns, rbacv1.PolicyRule{APIGroups: []string{"kustomize.weir.dev"}, Resources: []string{"kustomizations"}, Verbs: []string{"patch"}})
	s, base = serveWith(t, Options{Config: impersonating(bob)})
	_, body = fetch(t, base+page)
	if !strings.Contains(body, `data-action="approve">Approve revision main@sha1:2`) {
		t.Errorf("bob's approve button is not enabled:\n%s", body[strings.Index(body, `id="actions"`):strings.Index(body, `id="chain"`)])
	}
	token := map[string]string{"X-Weir-Token": s.token}
	code, msg = post(t, base+page+"/approve?revision="+url.QueryEscape("main@sha1:1"), token)
	if code != http.StatusConflict || !strings.Contains(msg, "the plan waiting for approval is for revision main@sha1:2") {
		t.Errorf("a stale approval: %d %s", code, msg)
	}
	if v := getKustomization(t, ns, "prod").Annotations[meta.ApproveAnnotation]; v != "" {
		t.Fatalf("a stale approval patched the object: %q", v)
	}
	code, msg = post(t, base+page+"/approve?revision="+url.QueryEscape("main@sha1:2"), token)
	if code != http.StatusOK || !strings.Contains(msg, "Approved revision main@sha1:2: 1 to create, 0 to change, 1 to delete of Kustomization "+ns+"/prod") {
		t.Fatalf("bob's approval: %d %s", code, msg)
	}
	k := getKustomization(t, ns, "prod")
	if k.Annotations[meta.ApproveAnnotation] != "main@sha1:2" || k.Annotations[meta.ReconcileRequestAnnotation] == "" {
		t.Fatalf("approval annotations: %v", k.Annotations)
	}
}
