package notifier

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

const pubsubAccessToken = "ya29.access-token-that-must-stay-secret"

// fakeGoogle plays Google's token endpoint: it checks the JWT bearer assertion (RS256 by the
// service account's key, for the pubsub scope, aimed at the endpoint) before answering with
// an access token.
func fakeGoogle(t *testing.T, key *rsa.PrivateKey, email string) (*httptest.Server, *atomic.Int64) {
	var issued atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		parts := strings.Split(r.PostForm.Get("assertion"), ".")
		fail := func(msg string) {
			http.Error(w, `{"error":"invalid_grant","error_description":"`+msg+`"}`, http.StatusBadRequest)
		}
		if r.URL.Path != "/token" || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || len(parts) != 3 {
			fail("not a JWT bearer grant")
			return
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
			fail("bad signature")
			return
		}
		var claims struct{ Iss, Scope, Aud string }
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(payload, &claims)
		if claims.Iss != email || claims.Scope != pubsubScope || claims.Aud != srv.URL+"/token" {
			fail("bad claims")
			return
		}
		issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"`+pubsubAccessToken+`","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &issued
}

func serviceAccountJSON(t *testing.T, key *rsa.PrivateKey, tokenURI string) string {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "weir-test", "private_key_id": "0123456789abcdef",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "weir@weir-test.iam.gserviceaccount.com", "token_uri": tokenURI})
	return string(b)
}

// TestGooglePubSubPublishesAsTheServiceAccount: the event is published to the topic with an
// access token the service account's key obtained, once for several events.
func TestGooglePubSubPublishesAsTheServiceAccount(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	google, issued := fakeGoogle(t, key, "weir@weir-test.iam.gserviceaccount.com")
	srv := newFakeServer(t, http.StatusOK, `{"messageIds":["1"]}`)
	n, err := New(onLoopback(Config{Type: "googlepubsub", Address: srv.URL, Channel: "projects/weir-test/topics/weir-events",
		Token: serviceAccountJSON(t, key, google.URL+"/token")}))
	if err != nil {
		t.Fatal(err)
	}
	for _, severity := range []string{"info", "error"} {
		if err := n.Post(context.Background(), testEvent(severity)); err != nil {
			t.Fatal(err)
		}
	}
	if got := issued.Load(); got != 1 {
		t.Errorf("%d access tokens issued for two events, want 1", got)
	}
	for i, r := range srv.received() {
		s := sevs[[]string{"info", "error"}[i]]
		if r.Method != http.MethodPost || r.Path != "/v1/projects/weir-test/topics/weir-events:publish" {
			t.Fatalf("request %s %s", r.Method, r.Path)
		}
		if a := r.Header.Get("Authorization"); a != "Bearer "+pubsubAccessToken {
			t.Fatalf("Authorization %q", a)
		}
		var body struct {
			Messages []struct {
				Data       []byte            `json:"data"`
				Attributes map[string]string `json:"attributes"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Messages) != 1 {
			t.Fatalf("body %s: %v", r.Body, err)
		}
		jsonEqual(t, body.Messages[0].Data, s.r(genericBody))
		want := map[string]string{"kind": "Kustomization", "namespace": "apps", "name": "podinfo", "severity": s.severity, "reason": s.reason}
		for k, v := range want {
			if body.Messages[0].Attributes[k] != v || len(body.Messages[0].Attributes) != len(want) {
				t.Fatalf("attributes %v, want %v", body.Messages[0].Attributes, want)
			}
		}
	}
}

func TestGooglePubSubKeepsTheKeyAndAccessTokenOut(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	google, _ := fakeGoogle(t, key, "weir@weir-test.iam.gserviceaccount.com")
	echo := newFakeServer(t, http.StatusForbidden, "")
	echo.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("denied for " + r.Header.Get("Authorization")))
	})
	sa := serviceAccountJSON(t, key, google.URL+"/token")
	n, _ := New(onLoopback(Config{Type: "googlepubsub", Address: echo.URL, Channel: "projects/weir-test/topics/weir-t1", Token: sa}))
	err := n.Post(context.Background(), testEvent("info"))
	if err == nil || strings.Contains(err.Error(), pubsubAccessToken) || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("an echoed access token: %v", err)
	}
	// A key Google does not know: the token endpoint refuses, permanently, quoting nothing.
	n, _ = New(onLoopback(Config{Type: "googlepubsub", Address: echo.URL, Channel: "projects/weir-test/topics/weir-t1", Token: serviceAccountJSON(t, other, google.URL+"/token")}))
	err = n.Post(context.Background(), testEvent("info"))
	if err == nil || Retryable(err) || !strings.Contains(err.Error(), "signing in as the service account") {
		t.Fatalf("an unknown key: %v", err)
	}
	var k map[string]string
	_ = json.Unmarshal([]byte(sa), &k)
	for _, c := range []Config{
		{Type: "googlepubsub", Channel: "weir-events", Token: sa},
		{Type: "googlepubsub", Channel: "projects/weir-test/topics/weir-t1", Token: "not json " + k["private_key"]},
	} {
		if _, err := New(c); err == nil || strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%q: got %v", c.Channel, err)
		}
	}
}
