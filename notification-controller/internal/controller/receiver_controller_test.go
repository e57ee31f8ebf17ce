package controller_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/harness"
)

const receiverToken = "receiver-token-never-shown-456"

func newReceiver(ns, name, secret string, edit func(*notificationv1.ReceiverSpec)) *notificationv1.Receiver {
	r := &notificationv1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: notificationv1.ReceiverSpec{
			Type:      "github",
			Resources: []notificationv1.CrossNamespaceObjectReference{{Kind: "GitRepository", Name: "app"}},
			SecretRef: meta.LocalObjectReference{Name: secret},
		},
	}
	if edit != nil {
		edit(&r.Spec)
	}
	return r
}

// wantPath computes the webhook path as Flux documents it, independently of the API's helper.
func wantPath(token, name, ns string) string {
	sum := sha256.Sum256([]byte(token + name + ns))
	return "/hook/" + hex.EncodeToString(sum[:])
}

// waitPath waits until r is Ready with status and reason and publishes path. The patch helper
// writes conditions and the rest of the status in two requests, so both are awaited together.
func waitPath(t *testing.T, r *notificationv1.Receiver, status metav1.ConditionStatus, reason, msg, path string) {
	t.Helper()
	harness.Eventually(t, 30*time.Second, func() error {
		if err := env.ObjectIn(r, meta.ReadyCondition, status, reason, msg)(); err != nil {
			return err
		}
		if r.Status.WebhookPath != path {
			return errf("webhookPath %q, want %q", r.Status.WebhookPath, path)
		}
		return nil
	})
}

func TestReceiverPublishesItsPath(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	r := newReceiver(ns, "gh", "hook-token", nil)
	m.Create(t, r)
	waitPath(t, r, "False", notificationv1.TokenNotFoundReason, "spec.secretRef: secret 'hook-token' not found", "")
	secret := m.Secret(t, ns, "hook-token", map[string]string{"token": receiverToken})
	waitPath(t, r, "True", meta.SucceededReason, "Receiver is ready", wantPath(receiverToken, "gh", ns))

	// Rotating the token moves the path.
	harness.Update(t, env.Client, secret, func(s *corev1.Secret) { s.Data = map[string][]byte{"token": []byte(receiverToken + "-v2")} })
	waitPath(t, r, "True", meta.SucceededReason, "", wantPath(receiverToken+"-v2", "gh", ns))

	// A Secret without the key withdraws the path.
	harness.Update(t, env.Client, secret, func(s *corev1.Secret) { s.Data = map[string][]byte{"tokn": []byte("typo")} })
	waitPath(t, r, "False", notificationv1.TokenNotFoundReason, "secret 'hook-token' has no 'token' key", "")
	assertNowhere(t, m, ns, receiverToken)
}

func TestReceiverWithABadFilterStalls(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	m.Secret(t, ns, "tok", map[string]string{"token": receiverToken})
	r := newReceiver(ns, "filtered", "tok", func(s *notificationv1.ReceiverSpec) {
		s.Resources = []notificationv1.CrossNamespaceObjectReference{{Kind: "OCIRepository", Name: "*"}}
		s.ResourceFilter = "res.metadata.name"
	})
	m.Create(t, r)
	msg := m.WaitReady(t, r, "False", meta.InvalidSpecReason)
	if !strings.Contains(msg, "spec.resourceFilter must evaluate to a boolean") {
		t.Fatalf("message %q", msg)
	}
	if err := harness.CheckStalled(r); err != nil {
		t.Fatal(err)
	}
	harness.Update(t, env.Client, r, func(r *notificationv1.Receiver) { r.Spec.ResourceFilter = `res.metadata.name == req.name` })
	m.WaitReady(t, r, "True", meta.SucceededReason)
}
