package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
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

// waitApproval waits until hr waits for approval with a message containing msg.
func waitApproval(t *testing.T, hr *helmv1.HelmRelease, msg string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(hr, meta.ApprovalRequiredCondition, metav1.ConditionTrue, meta.ApprovalRequiredReason, msg)(); err != nil {
			return err
		}
		return testenv.CheckCondition(hr, meta.ReadyCondition, metav1.ConditionFalse, meta.ApprovalRequiredReason, msg)
	})
}

// TestHelmReleaseApprovalGate: under spec.approval: Manual nothing is installed before the plan
// (the rendered manifest against the release's) is approved; a new chart version needs a new
// approval; a stale approval is refused, naming the current revision.
func TestHelmReleaseApprovalGate(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{version: "1.0.0"})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.Values = jsonValues(`{"greeting": "hello"}`)
		hr.Spec.Approval = meta.ApprovalManual
	})

	waitApproval(t, hr, "revision 1.0.0: 1 to create, 0 to change, 0 to delete")
	waitEvent(t, ns, "app", corev1.EventTypeNormal, meta.PlanComputedReason, "revision 1.0.0: 1 to create")
	if p := hr.Status.Plan; p == nil || len(p.Objects) != 1 || p.Objects[0].ID != ns+"_app-cm__ConfigMap" || p.Objects[0].Action != meta.PlanCreate {
		t.Fatalf("status.plan = %+v", hr.Status.Plan)
	}
	if got := revisions(t, ns, "app"); len(got) != 0 {
		t.Fatalf("released before approval: %v", got)
	}

	annotate(t, hr, meta.ApproveAnnotation, "1.0.0")
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	waitRendered(t, ns, "app", "greeting", `"hello"`)

	// A new chart version needs a new approval.
	publishChart(t, ns, "chart", testChart{version: "1.1.0"})
	waitApproval(t, hr, "revision 1.1.0: 0 to create, 1 to change, 0 to delete")
	wantRevisions(t, ns, "app", "1:deployed")

	// A newer one arrives before that approval, which is then stale.
	publishChart(t, ns, "chart", testChart{version: "1.2.0"})
	waitApproval(t, hr, "revision 1.2.0: 0 to create, 1 to change, 0 to delete")
	annotate(t, hr, meta.ApproveAnnotation, "1.1.0")
	waitApproval(t, hr, "the approval of revision 1.1.0 is stale: approve 1.2.0")
	waitEvent(t, ns, "app", corev1.EventTypeWarning, meta.ApprovalRefusedReason, "approve 1.2.0")
	wantRevisions(t, ns, "app", "1:deployed")

	annotate(t, hr, meta.ApproveAnnotation, "1.2.0")
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.2.0")
	wantRevisions(t, ns, "app", "1:superseded", "2:deployed")
}

// TestHelmReleaseSyncWindows: outside the allow window nothing is installed and the status says
// until when; inside it, the release is installed; a new chart version waits with Ready staying
// at the release made; an override upgrades once, with an event.
func TestHelmReleaseSyncWindows(t *testing.T) {
	ns := env.Namespace(t)
	setClock := func(at string) {
		now, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		testClock.SetTime(now)
	}
	setClock("2026-12-06T13:00:00Z")
	publishChart(t, ns, "chart", testChart{version: "1.0.0"})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.SyncWindows = []meta.SyncWindow{{Kind: meta.SyncWindowAllow, Schedule: "0 2 * * *", Duration: metav1.Duration{Duration: 2 * time.Hour}}}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(hr, meta.SyncWindowClosedCondition, metav1.ConditionTrue, meta.OutsideSyncWindowReason,
		"revision 1.0.0 waits until 2026-12-07T02:00Z (outside every allow window)"))
	if err := testenv.CheckCondition(hr, meta.ReadyCondition, metav1.ConditionFalse, meta.OutsideSyncWindowReason, "waits until"); err != nil {
		t.Fatal(err)
	}
	if got := revisions(t, ns, "app"); len(got) != 0 {
		t.Fatalf("released outside the window: %v", got)
	}

	setClock("2026-12-07T02:30:00Z")
	requestReconcile(t, hr)
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	setClock("2026-12-07T05:00:00Z")
	publishChart(t, ns, "chart", testChart{version: "1.1.0"})
	testenv.Eventually(t, timeout, env.ObjectIn(hr, meta.SyncWindowClosedCondition, metav1.ConditionTrue, meta.OutsideSyncWindowReason,
		"revision 1.1.0 waits until 2026-12-08T02:00Z"))
	if err := testenv.CheckCondition(hr, meta.ReadyCondition, metav1.ConditionTrue, helmv1.InstallSucceededReason, ""); err != nil {
		t.Fatal(err)
	}
	wantRevisions(t, ns, "app", "1:deployed")

	annotate(t, hr, meta.OverrideWindowAnnotation, "now-1")
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.1.0")
	waitEvent(t, ns, "app", corev1.EventTypeNormal, meta.SyncWindowOverriddenReason, "releasing 1.1.0 outside the sync windows")
	wantRevisions(t, ns, "app", "1:superseded", "2:deployed")
}

// TestHelmReleaseSelfHealInWindow: under selfHeal: InWindow, drift found outside the windows is
// reported and left; inside them it is corrected.
func TestHelmReleaseSelfHealInWindow(t *testing.T) {
	testClock.SetTime(time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC))
	ns, hr := installDriftChart(t, nil)
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) {
		hr.Spec.SelfHeal = meta.SelfHealInWindow
		hr.Spec.SyncWindows = []meta.SyncWindow{{Kind: meta.SyncWindowAllow, Schedule: "0 2 * * *", Duration: metav1.Duration{Duration: 2 * time.Hour}}}
	})
	waitReleased(t, hr, "", "1.0.0")
	testClock.SetTime(time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC))
	kubectlEdit(t, ns)
	requestReconcile(t, hr)
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.DriftDetectedReason, "not corrected, spec.selfHeal is InWindow, outside every allow window")
	if replicas, password := liveState(t, ns); replicas != 5 || password != "hand-s3cret" {
		t.Fatalf("drift corrected outside the windows: replicas %d, password changed %v", replicas, password != "hand-s3cret")
	}

	testClock.SetTime(time.Date(2026, 12, 8, 2, 0, 0, 0, time.UTC))
	requestReconcile(t, hr)
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.DriftDetectedReason, "corrected drift")
	if replicas, _ := liveState(t, ns); replicas == 5 {
		t.Fatal("drift not corrected inside the window")
	}
}
