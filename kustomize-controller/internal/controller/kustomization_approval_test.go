package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// annotate sets annotation key to value on obj with a merge patch, as
// `kubectl annotate --overwrite` does.
func annotate(t *testing.T, obj client.Object, key, value string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
	if err := env.Client.Patch(context.Background(), obj, client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

// eventWith waits for an event about ns/name with reason and a message containing msg.
func eventWith(t *testing.T, ns, name, reason, msg string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		var seen []string
		for _, ev := range env.Events(t, ns, name) {
			if ev.Reason == reason && strings.Contains(ev.Message, msg) {
				return nil
			}
			seen = append(seen, ev.Reason+": "+ev.Message)
		}
		return fmt.Errorf("no %s event with %q; events: %q", reason, msg, seen)
	})
}

// waitHeld waits until ks waits for approval with a message containing msg.
func waitHeld(t *testing.T, ks *kustomizev1.Kustomization, msg string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(ks, meta.ApprovalRequiredCondition, metav1.ConditionTrue, meta.ApprovalRequiredReason, msg)(); err != nil {
			return err
		}
		if err := testenv.CheckCondition(ks, meta.ReadyCondition, metav1.ConditionFalse, meta.ApprovalRequiredReason, msg); err != nil {
			return err
		}
		// The status is written in more than one request (conditions, then the rest): wait
		// until status.plan is the one the conditions describe.
		c := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ApprovalRequiredCondition)
		if p := ks.Status.Plan; p == nil || !strings.Contains(c.Message, p.Revision) {
			return fmt.Errorf("status.plan %+v is not yet the plan of %q", p, c.Message)
		}
		return nil
	})
}

// TestApprovalGate: under spec.approval: Manual nothing is applied before the plan of a
// revision is approved; the approved revision is applied; a new commit needs a new approval;
// an approval naming a revision that is no longer the plan's is refused, naming the current
// one; drift of the approved revision is corrected without an approval.
func TestApprovalGate(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/a.yaml": configMap("a", "1"), "app/b.yaml": configMap("b", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Approval = meta.ApprovalManual
	})

	// The plan is recorded and announced; nothing is applied.
	waitHeld(t, ks, "revision main@sha1:1: 2 to create, 0 to change, 0 to delete")
	eventWith(t, ns, "app", meta.PlanComputedReason, "revision main@sha1:1: 2 to create")
	if p := ks.Status.Plan; p == nil || p.Revision != "main@sha1:1" || p.Create != 2 || len(p.Objects) != 2 || p.Approval != "" || !strings.HasPrefix(p.Digest, "sha256:") {
		t.Fatalf("status.plan = %+v", ks.Status.Plan)
	}
	if got := configMapValue(t, ns, "a"); got != "<absent>" {
		t.Fatalf("ConfigMap a applied before approval: %q", got)
	}
	if ks.Status.LastAppliedRevision != "" || ks.Status.ObservedGeneration != ks.Generation {
		t.Fatalf("lastAppliedRevision %q, observedGeneration %d of %d", ks.Status.LastAppliedRevision, ks.Status.ObservedGeneration, ks.Generation)
	}

	// Approved as with kubectl: applied.
	annotate(t, ks, meta.ApproveAnnotation, "main@sha1:1")
	waitApplied(t, ks, "main@sha1:1")
	waitConfigMap(t, ns, "a", "1")
	if ks.Status.Plan == nil || ks.Status.Plan.Approval != "main@sha1:1" || ks.Status.LastHandledApproval != "main@sha1:1" {
		t.Fatalf("after approval: plan %+v, lastHandledApproval %q", ks.Status.Plan, ks.Status.LastHandledApproval)
	}
	if err := testenv.CheckCondition(ks, meta.ApprovalRequiredCondition, metav1.ConditionTrue, "", ""); err == nil {
		t.Fatal("ApprovalRequired still present after the approved plan was applied")
	}

	// A new commit needs a new approval: one to change, one to create, one to delete.
	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/a.yaml": configMap("a", "2"), "app/c.yaml": configMap("c", "1")})
	waitHeld(t, ks, "revision main@sha1:2: 1 to create, 1 to change, 1 to delete")
	if got := configMapValue(t, ns, "a"); got != "1" || ks.Status.LastAppliedRevision != "main@sha1:1" {
		t.Fatalf("revision 2 applied without approval: a=%q, lastAppliedRevision %q", got, ks.Status.LastAppliedRevision)
	}

	// Another commit arrives before the approval of the second: that approval is stale.
	publish(t, ns, "repo", "main@sha1:3", map[string]string{"app/a.yaml": configMap("a", "3"), "app/c.yaml": configMap("c", "1")})
	waitHeld(t, ks, "revision main@sha1:3: 1 to create, 1 to change, 1 to delete")
	annotate(t, ks, meta.ApproveAnnotation, "main@sha1:2")
	waitHeld(t, ks, "the approval of revision main@sha1:2 is stale: approve main@sha1:3")
	eventWith(t, ns, "app", meta.ApprovalRefusedReason, "approve main@sha1:3")
	if got := configMapValue(t, ns, "a"); got != "1" {
		t.Fatalf("a stale approval applied something: a=%q", got)
	}

	annotate(t, ks, meta.ApproveAnnotation, "main@sha1:3")
	waitApplied(t, ks, "main@sha1:3")
	waitConfigMap(t, ns, "a", "3")
	waitConfigMap(t, ns, "b", "<absent>")
	waitConfigMap(t, ns, "c", "1")

	// Drift of the approved revision is corrected without an approval.
	editConfigMap(t, ns, "a", "edited")
	requestReconcile(t, ks)
	waitConfigMap(t, ns, "a", "3")
}

// TestApprovalGateDriftApproval: with spec.driftApproval: Manual, drift of the approved revision
// waits for an approval too, given as the revision with a `#` suffix.
func TestApprovalGateDriftApproval(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/a.yaml": configMap("a", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Approval = meta.ApprovalManual
		k.Spec.DriftApproval = meta.ApprovalManual
	})
	waitHeld(t, ks, "1 to create")
	annotate(t, ks, meta.ApproveAnnotation, "main@sha1:1")
	waitApplied(t, ks, "main@sha1:1")

	editConfigMap(t, ns, "a", "edited")
	requestReconcile(t, ks)
	waitHeld(t, ks, "revision main@sha1:1 (drift correction): 0 to create, 1 to change, 0 to delete; main@sha1:1 was approved before: approve again with reconcile.weir.dev/approve=main@sha1:1#<anything new>")
	if got := configMapValue(t, ns, "a"); got != "edited" {
		t.Fatalf("drift corrected without approval: a=%q", got)
	}
	annotate(t, ks, meta.ApproveAnnotation, "main@sha1:1#drift")
	waitConfigMap(t, ns, "a", "1")
	waitApplied(t, ks, "main@sha1:1")
}

// editConfigMap sets data.value of ConfigMap ns/name as another field manager.
func editConfigMap(t *testing.T, ns, name, value string) {
	t.Helper()
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["value"] = value
	if err := env.Client.Update(context.Background(), &cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
}
