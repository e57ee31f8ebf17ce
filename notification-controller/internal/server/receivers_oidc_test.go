package server_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/harness"
	"weir.dev/notification-controller/internal/provider"
	"weir.dev/notification-controller/internal/receiver"
	"weir.dev/notification-controller/internal/server"
)

// oidcReceiver creates GitRepository app, a Secret with the token and data, and a Receiver of
// typ for app, and waits until the server can find it.
func oidcReceiver(t *testing.T, m *harness.Manager, ns, typ string, data map[string]string) *notificationv1.Receiver {
	t.Helper()
	m.Create(t, gitRepository(ns, "app", "https://example.com/app.git", nil))
	data["token"] = hookToken
	m.Secret(t, ns, "oidc", data)
	r := &notificationv1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: typ},
		Spec: notificationv1.ReceiverSpec{Type: typ, Resources: []src{{Kind: "GitRepository", Name: "app"}},
			SecretRef: meta.LocalObjectReference{Name: "oidc"}},
	}
	m.Create(t, r)
	m.WaitReady(t, r, "True", "")
	harness.Eventually(t, 30*time.Second, func() error {
		cached := &notificationv1.Receiver{}
		if err := m.Client.Get(context.Background(), keyOf(r), cached); err != nil || cached.Status.WebhookPath == "" {
			return errf("the cache has not seen the path yet")
		}
		r.Status.WebhookPath = cached.Status.WebhookPath
		return nil
	})
	return r
}

// TestIDTokenReceivers: generic-oidc and gcr Receivers reconcile only on a request whose bearer
// ID token the issuer (served on 127.0.0.1) signed, for the Secret's audience, unexpired;
// everything else is a 401 that annotates nothing, and no token shows in the logs.
func TestIDTokenReceivers(t *testing.T) {
	m := manager(t)
	iss := harness.NewIssuer(t)
	url := m.StartReceiverServer(t, server.ReceiverServerOptions{IDTokens: receiver.NewIDTokens(m.Clients.Get(provider.Transport{}))})
	const aud = "https://weir.example.com/hook"
	gcrBody := func(action string) []byte {
		data := base64.StdEncoding.EncodeToString([]byte(`{"action":"` + action + `","digest":"europe-docker.pkg.dev/p/r/app@sha256:0","tag":"europe-docker.pkg.dev/p/r/app:1.0"}`))
		return []byte(`{"message":{"data":"` + data + `","messageId":"1"},"subscription":"projects/p/subscriptions/weir"}`)
	}
	googleClaims := func() map[string]any {
		c := iss.Claims(aud)
		c["iss"], c["email"], c["email_verified"] = "accounts.google.com", "push@p.iam.gserviceaccount.com", true
		return c
	}
	cases := []struct {
		typ  string
		data map[string]string
		good map[string]any
		body []byte
	}{
		{typ: "generic-oidc", data: map[string]string{"issuer": iss.URL, "audience": aud}, good: iss.Claims(aud), body: []byte(`{"ref":"refs/heads/main"}`)},
		{typ: "gcr", data: map[string]string{"issuer": receiver.GoogleIssuer, "jwksURL": iss.JWKSURL(), "audience": aud, "email": "push@p.iam.gserviceaccount.com"},
			good: googleClaims(), body: gcrBody("INSERT")},
	}
	var tokens []string
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			ns := env.Namespace(t)
			r := oidcReceiver(t, m, ns, tc.typ, tc.data)
			hook := url + r.Status.WebhookPath
			with := func(k string, v any) map[string]any {
				c := map[string]any{}
				for ck, cv := range tc.good {
					c[ck] = cv
				}
				c[k] = v
				return c
			}
			bad := map[string]string{
				"forged":         iss.Sign(t, "forged", tc.good),
				"other audience": iss.Sign(t, "RS256", with("aud", "https://elsewhere.example.com")),
				"other issuer":   iss.Sign(t, "RS256", with("iss", "https://evil.example.com")),
				"expired":        iss.Sign(t, "RS256", with("exp", time.Now().Add(-time.Minute).Unix())),
			}
			for name, tok := range bad {
				tokens = append(tokens, tok)
				if code, msg := send(t, hook, call{header: http.Header{"Authorization": {"Bearer " + tok}}, body: tc.body}); code != http.StatusUnauthorized || strings.Contains(msg, tok) {
					t.Fatalf("%s token: %d %q", name, code, msg)
				}
			}
			if code, msg := send(t, hook, call{body: tc.body}); code != http.StatusUnauthorized {
				t.Fatalf("no token: %d %q", code, msg)
			}
			if got := annotated(t, ns); len(got) != 0 {
				t.Fatalf("a refused request annotated %v", got)
			}
			good := iss.Sign(t, "ES256", tc.good)
			tokens = append(tokens, good)
			if tc.typ == "gcr" {
				code, msg := send(t, hook, call{header: http.Header{"Authorization": {"Bearer " + good}}, body: gcrBody("DELETE")})
				if code != http.StatusOK || !strings.Contains(msg, `ignored: action "DELETE" is not an image push`) || len(annotated(t, ns)) != 0 {
					t.Fatalf("a deletion: %d %q", code, msg)
				}
			}
			code, msg := send(t, hook, call{header: http.Header{"Authorization": {"Bearer " + good}}, body: tc.body})
			if code != http.StatusOK || msg != "1 objects asked to reconcile\n" {
				t.Fatalf("good token: %d %q", code, msg)
			}
			if got := annotated(t, ns); strings.Join(got, ",") != "app" {
				t.Fatalf("annotated %v, want [app]", got)
			}
		})
	}
	logs := m.Logs.String()
	for _, secret := range append(tokens, hookToken) {
		if strings.Contains(logs, secret) {
			t.Fatalf("the logs show a token")
		}
	}
}

// TestIDTokenReceiverWithoutAudienceIsNotReady: a generic-oidc Receiver whose Secret lacks the
// audience is Ready=False InvalidSpec naming the Secret and the key, and its path answers 503.
func TestIDTokenReceiverWithoutAudienceIsNotReady(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	m.Secret(t, ns, "oidc", map[string]string{"token": hookToken, "issuer": "https://issuer.example.com"})
	r := &notificationv1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "oidc"},
		Spec: notificationv1.ReceiverSpec{Type: "generic-oidc", Resources: []src{{Kind: "GitRepository", Name: "app"}},
			SecretRef: meta.LocalObjectReference{Name: "oidc"}},
	}
	m.Create(t, r)
	msg := m.WaitReady(t, r, "False", meta.InvalidSpecReason)
	if want := "secret 'oidc' has no 'audience' key: type generic-oidc needs the audience the ID tokens must be for"; !strings.Contains(msg, want) {
		t.Fatalf("Ready message %q lacks %q", msg, want)
	}
	if err := harness.CheckStalled(r); err != nil {
		t.Fatal(err)
	}
}
