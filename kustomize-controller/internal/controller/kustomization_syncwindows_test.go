package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// setClock sets the controller's clock to an RFC 3339 time; the window tests do not run in
// parallel, and no other test has windows.
func setClock(t *testing.T, at string) {
	t.Helper()
	now, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	testClock.SetTime(now)
}

// waitWindowClosed waits until ks has SyncWindowClosed with a message containing msg.
func waitWindowClosed(t *testing.T, ks *kustomizev1.Kustomization, msg string) {
	t.Helper()
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.SyncWindowClosedCondition, metav1.ConditionTrue, meta.OutsideSyncWindowReason, msg))
}

// TestSyncWindows: outside the allow window a new revision waits, Ready staying at the applied
// revision and the status saying until when; inside it, it is applied; drift is corrected
// outside the window (selfHeal: Always); an override applies once, with an event.
func TestSyncWindows(t *testing.T) {
	ns := env.Namespace(t)
	setClock(t, "2026-12-06T13:00:00Z")
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/a.yaml": configMap("a", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.SyncWindows = []meta.SyncWindow{{Kind: meta.SyncWindowAllow, Schedule: "0 2 * * *", Duration: metav1.Duration{Duration: 2 * time.Hour}}}
	})

	// Nothing applied yet, outside the window: Ready is False and says until when.
	waitWindowClosed(t, ks, "revision main@sha1:1 waits until 2026-12-07T02:00Z (outside every allow window)")
	if err := testenv.CheckCondition(ks, meta.ReadyCondition, metav1.ConditionFalse, meta.OutsideSyncWindowReason, "waits until 2026-12-07T02:00Z"); err != nil {
		t.Fatal(err)
	}
	if got := configMapValue(t, ns, "a"); got != "<absent>" {
		t.Fatalf("applied outside the window: a=%q", got)
	}

	// The window opens.
	setClock(t, "2026-12-07T02:30:00Z")
	requestReconcile(t, ks)
	waitApplied(t, ks, "main@sha1:1")
	waitConfigMap(t, ns, "a", "1")

	// After it closes, drift is still corrected (selfHeal: Always)...
	setClock(t, "2026-12-07T05:00:00Z")
	editConfigMap(t, ns, "a", "edited")
	requestReconcile(t, ks)
	waitConfigMap(t, ns, "a", "1")

	// ...but a new revision waits, Ready staying at the applied one.
	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/a.yaml": configMap("a", "2")})
	waitWindowClosed(t, ks, "revision main@sha1:2 waits until 2026-12-08T02:00Z")
	if err := testenv.CheckCondition(ks, meta.ReadyCondition, metav1.ConditionTrue, "", "applied revision main@sha1:1"); err != nil {
		t.Fatal(err)
	}
	if got := configMapValue(t, ns, "a"); got != "1" {
		t.Fatalf("revision 2 applied outside the window: a=%q", got)
	}

	// `weir reconcile --override-window`: applied once, evented.
	annotate(t, ks, meta.OverrideWindowAnnotation, "now-1")
	waitApplied(t, ks, "main@sha1:2")
	waitConfigMap(t, ns, "a", "2")
	eventWith(t, ns, "app", meta.SyncWindowOverriddenReason, "applying revision main@sha1:2 outside the sync windows")
	if ks.Status.LastHandledWindowOverride != "now-1" {
		t.Fatalf("lastHandledWindowOverride %q", ks.Status.LastHandledWindowOverride)
	}
	if err := testenv.CheckCondition(ks, meta.SyncWindowClosedCondition, metav1.ConditionTrue, "", ""); err == nil {
		t.Fatal("SyncWindowClosed still present after the override applied")
	}

	// Once: the next revision waits again.
	publish(t, ns, "repo", "main@sha1:3", map[string]string{"app/a.yaml": configMap("a", "3")})
	waitWindowClosed(t, ks, "revision main@sha1:3 waits until 2026-12-08T02:00Z")
	if got := configMapValue(t, ns, "a"); got != "2" {
		t.Fatalf("the override applied twice: a=%q", got)
	}
}

// TestSyncWindowsDenyAndSelfHeal: a deny window holds new revisions until it ends, and with
// selfHeal: InWindow drift is not corrected inside it either.
func TestSyncWindowsDenyAndSelfHeal(t *testing.T) {
	ns := env.Namespace(t)
	// 2026-12-10 is a Thursday; Fridays are denied.
	setClock(t, "2026-12-10T12:00:00Z")
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/a.yaml": configMap("a", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.SelfHeal = meta.SelfHealInWindow
		k.Spec.SyncWindows = []meta.SyncWindow{{Kind: meta.SyncWindowDeny, Schedule: "0 0 * * 5", Duration: metav1.Duration{Duration: 24 * time.Hour}}}
	})
	waitApplied(t, ks, "main@sha1:1")

	setClock(t, "2026-12-11T09:00:00Z")
	editConfigMap(t, ns, "a", "edited")
	requestReconcile(t, ks)
	waitWindowClosed(t, ks, "revision main@sha1:1 waits until 2026-12-12T00:00Z (inside the deny window spec.syncWindows[0])")
	if got := configMapValue(t, ns, "a"); got != "edited" {
		t.Fatalf("drift corrected inside the deny window under selfHeal: InWindow: a=%q", got)
	}
	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/a.yaml": configMap("a", "2")})
	waitWindowClosed(t, ks, "revision main@sha1:2 waits until 2026-12-12T00:00Z")

	setClock(t, "2026-12-12T00:00:00Z")
	requestReconcile(t, ks)
	waitApplied(t, ks, "main@sha1:2")
	waitConfigMap(t, ns, "a", "2")
}
