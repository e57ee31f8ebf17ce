package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/controller"
	"weir.dev/notification-controller/internal/harness"
)

func newAlert(ns, name, providerName string, edit func(*notificationv1.AlertSpec)) *notificationv1.Alert {
	a := &notificationv1.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: notificationv1.AlertSpec{
			ProviderRef:  meta.LocalObjectReference{Name: providerName},
			EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "GitRepository", Name: "*"}},
		},
	}
	if edit != nil {
		edit(&a.Spec)
	}
	return a
}

func TestAlertWaitsForItsProvider(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	a := newAlert(ns, "a", "chat", nil)
	m.Create(t, a)
	msg := m.WaitReady(t, a, "False", meta.DependencyNotReadyReason)
	if msg != "Provider 'chat' not found" {
		t.Fatalf("message %q", msg)
	}
	// A Provider that is not Ready keeps the Alert waiting.
	p := newProvider(ns, "chat", "slack", func(s *notificationv1.ProviderSpec) { s.SecretRef = secretRef("chat-url") })
	m.Create(t, p)
	m.WaitReady(t, p, "False", notificationv1.SecretNotFoundReason)
	harness.Eventually(t, 30*time.Second, env.ObjectIn(a, meta.ReadyCondition, "False", meta.DependencyNotReadyReason, "Provider 'chat' is not ready"))
	// The Provider's Secret makes it Ready, and the Provider's change makes the Alert Ready at
	// once, without waiting for the Alert's requeue.
	m.Secret(t, ns, "chat-url", map[string]string{"address": "https://hooks.slack.com/services/x"})
	m.WaitReady(t, p, "True", "")
	start := time.Now()
	msg = m.WaitReady(t, a, "True", meta.SucceededReason)
	if msg != "Alert forwards to Provider 'chat'" {
		t.Fatalf("message %q", msg)
	}
	if waited := time.Since(start); waited > 20*time.Second {
		t.Fatalf("the Alert became Ready %s after its Provider: the watch did not trigger it", waited)
	}
}

func TestAlertWithABadExpressionStalls(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	m.Create(t, newProvider(ns, "p", "generic", func(s *notificationv1.ProviderSpec) { s.Address = "https://example.com" }))
	a := newAlert(ns, "bad-re", "p", func(s *notificationv1.AlertSpec) { s.ExclusionList = []string{"fine", "(unclosed"} })
	m.Create(t, a)
	msg := m.WaitReady(t, a, "False", meta.InvalidSpecReason)
	if !strings.Contains(msg, `spec.exclusionList[1]: "(unclosed" is not a valid regular expression`) {
		t.Fatalf("message %q", msg)
	}
	if err := harness.CheckStalled(a); err != nil {
		t.Fatal(err)
	}
	// Fixing it clears Stalled.
	harness.Update(t, env.Client, a, func(a *notificationv1.Alert) { a.Spec.ExclusionList = []string{"fine"} })
	m.WaitReady(t, a, "True", meta.SucceededReason)
	if err := env.ObjectIn(a, meta.StalledCondition, "True", "", "")(); err == nil {
		t.Fatal("Stalled stayed after the fix")
	}
}

// TestCrossNamespaceReferencesRefused runs the Alert and Receiver reconcilers as
// --no-cross-namespace-refs sets them, on objects the shared manager does not see.
func TestCrossNamespaceReferencesRefused(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	direct := map[string]string{harness.DirectLabel: "true"}
	rec := events.NewFakeRecorder(10)

	a := newAlert(ns, "cross", "p", func(s *notificationv1.AlertSpec) {
		s.EventSources = append(s.EventSources, notificationv1.CrossNamespaceObjectReference{Kind: "Kustomization", Name: "*", Namespace: "other"})
	})
	a.Labels = direct
	m.Create(t, a)
	ar := &controller.AlertReconciler{Client: env.Client, EventRecorder: rec, NoCrossNamespaceRefs: true}
	if _, err := ar.Reconcile(context.Background(), ctrl.Request{NamespacedName: keyOf(a)}); err != nil {
		t.Fatal(err)
	}
	if err := env.ObjectIn(a, meta.ReadyCondition, "False", meta.AccessDeniedReason,
		"spec.eventSources[1].namespace 'other' is another namespace and cross-namespace references are disabled")(); err != nil {
		t.Fatal(err)
	}

	m.Secret(t, ns, "token", map[string]string{"token": "t"})
	r := newReceiver(ns, "cross", "token", func(s *notificationv1.ReceiverSpec) { s.Resources[0].Namespace = "other" })
	r.Labels = direct
	m.Create(t, r)
	rr := &controller.ReceiverReconciler{Client: env.Client, EventRecorder: rec, NoCrossNamespaceRefs: true}
	if _, err := rr.Reconcile(context.Background(), ctrl.Request{NamespacedName: keyOf(r)}); err != nil {
		t.Fatal(err)
	}
	if err := env.ObjectIn(r, meta.ReadyCondition, "False", meta.AccessDeniedReason, "spec.resources[0].namespace 'other'")(); err != nil {
		t.Fatal(err)
	}
	if r.Status.WebhookPath != "" {
		t.Fatalf("a refused Receiver publishes %q", r.Status.WebhookPath)
	}
	select {
	case e := <-rec.Events:
		if !strings.Contains(e, "Warning AccessDenied") {
			t.Fatalf("event %q", e)
		}
	default:
		t.Fatal("no warning event")
	}
}
