package server_test

import (
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/harness"
)

// TestProviderTLSAndProxy delivers to an HTTPS webhook whose CA comes from certSecretRef, and
// through an authenticating proxy from proxySecretRef; a Provider without the CA delivers nothing.
func TestProviderTLSAndProxy(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	url := eventsServer(t, m, nil)

	secure := harness.NewTLSDestination(t, nil)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw})
	m.Secret(t, ns, "ca", map[string]string{"ca.crt": string(caPEM)})
	// The proxy answers for the target itself, after checking its credentials.
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("proxy-user:proxy-pass"))
	proxy := harness.NewDestination(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != wantAuth {
			w.WriteHeader(http.StatusProxyAuthRequired)
		}
	})
	m.Secret(t, ns, "proxy", map[string]string{"address": proxy.URL, "username": "proxy-user", "password": "proxy-pass"})

	for name, spec := range map[string]notificationv1.ProviderSpec{
		"trusted":   {Type: "generic", Address: secure.URL + "/trusted", CertSecretRef: &meta.LocalObjectReference{Name: "ca"}},
		"untrusted": {Type: "generic", Address: secure.URL + "/untrusted"},
		"proxied":   {Type: "generic", Address: "http://webhook.example.invalid/proxied", ProxySecretRef: &meta.LocalObjectReference{Name: "proxy"}},
	} {
		m.Create(t, &notificationv1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec})
		a := &notificationv1.Alert{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: notificationv1.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: name},
				EventSources: []src{{Kind: "GitRepository", Name: "*"}}},
		}
		m.Create(t, a)
		m.WaitReady(t, a, "True", "")
	}
	postEvent(t, url, newEvent("GitRepository", ns, "app", "info", "NewArtifact", "stored", nil))

	got := secure.WaitFor(t, 1, 10*time.Second)
	if got[0].Path != "/trusted" {
		t.Fatalf("the HTTPS webhook got %s", got[0].Path)
	}
	p := proxy.WaitFor(t, 1, 10*time.Second)
	if p[0].Host != "webhook.example.invalid" || p[0].Path != "/proxied" || p[0].Header.Get("Proxy-Authorization") != wantAuth {
		t.Fatalf("the proxy got %s %s (auth %q)", p[0].Host, p[0].Path, p[0].Header.Get("Proxy-Authorization"))
	}
	// The untrusted Provider's attempts all fail the TLS handshake: nothing arrives.
	secure.Quiet(t, 1, 500*time.Millisecond)
}
