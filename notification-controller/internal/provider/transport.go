package provider

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/egress"
	"weir.dev/notification-controller/internal/notifier"
	"weir.dev/pkg/steps"
)

// Keys of the Secrets named by certSecretRef and proxySecretRef.
const (
	CAKey   = "ca.crt"
	CertKey = "tls.crt"
	KeyKey  = "tls.key"
)

// Transport is what makes one Provider's HTTP client differ from the default one.
type Transport struct {
	// Proxy is the proxy URL, with credentials; nil for the environment's.
	Proxy *url.URL
	// CA, Cert and Key are PEM: a CA to trust instead of the system's, a client certificate.
	CA, Cert, Key []byte
}

func (t Transport) isDefault() bool {
	return t.Proxy == nil && len(t.CA) == 0 && len(t.Cert) == 0
}

// resolveTransport reads spec.proxy, proxySecretRef and certSecretRef, and refuses a proxy at
// an address policy refuses.
func resolveTransport(ctx context.Context, c client.Reader, policy *egress.Policy, p *notificationv1.Provider) (Transport, error) {
	var t Transport
	if p.Spec.Proxy != "" {
		u, err := url.Parse(p.Spec.Proxy)
		if err != nil || u.Host == "" {
			return t, steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("spec.proxy is not an http(s) URL"))
		}
		if err := checkAddress(policy, "spec.proxy", p.Spec.Proxy); err != nil {
			return t, err
		}
		t.Proxy = u
	}
	if ref := p.Spec.ProxySecretRef; ref != nil {
		s, err := getSecret(ctx, c, p.Namespace, ref.Name)
		if apierrors.IsNotFound(err) {
			return t, steps.Stalled(notificationv1.SecretNotFoundReason, fmt.Errorf("spec.proxySecretRef: secret '%s' not found", ref.Name))
		}
		if err != nil {
			return t, err
		}
		addr := strings.TrimSpace(string(s.Data[AddressKey]))
		if addr == "" {
			return t, steps.Stalled(notificationv1.SecretNotFoundReason, fmt.Errorf("secret '%s' has no '%s' key", ref.Name, AddressKey))
		}
		u, err := url.Parse(addr)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return t, steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("secret '%s' key '%s' is not an http(s) proxy URL", ref.Name, AddressKey))
		}
		if err := checkAddress(policy, fmt.Sprintf("secret '%s' key '%s'", ref.Name, AddressKey), addr); err != nil {
			return t, err
		}
		if user := string(s.Data[UsernameKey]); user != "" {
			u.User = url.UserPassword(user, string(s.Data[PasswordKey]))
		}
		t.Proxy = u
	}
	if ref := p.Spec.CertSecretRef; ref != nil {
		s, err := getSecret(ctx, c, p.Namespace, ref.Name)
		if apierrors.IsNotFound(err) {
			return t, steps.Stalled(notificationv1.SecretNotFoundReason, fmt.Errorf("spec.certSecretRef: secret '%s' not found", ref.Name))
		}
		if err != nil {
			return t, err
		}
		t.CA, t.Cert, t.Key = s.Data[CAKey], s.Data[CertKey], s.Data[KeyKey]
		if len(t.CA) == 0 && len(t.Cert) == 0 {
			return t, steps.Stalled(notificationv1.SecretNotFoundReason, fmt.Errorf("secret '%s' has no '%s' key", ref.Name, CAKey))
		}
		if _, err := t.tlsConfig(ref.Name); err != nil {
			return t, err
		}
	}
	return t, nil
}

// tlsConfig builds the TLS settings of t; secretName is for error messages.
func (t Transport) tlsConfig(secretName string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(t.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(t.CA) {
			return nil, steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("secret '%s' key '%s' holds no PEM certificate", secretName, CAKey))
		}
		cfg.RootCAs = pool
	}
	if len(t.Cert) > 0 || len(t.Key) > 0 {
		if len(t.Cert) == 0 || len(t.Key) == 0 {
			return nil, steps.Stalled(notificationv1.SecretNotFoundReason, fmt.Errorf("secret '%s' needs both '%s' and '%s' for a client certificate", secretName, CertKey, KeyKey))
		}
		pair, err := tls.X509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("secret '%s' keys '%s' and '%s' are not a valid PEM certificate and key", secretName, CertKey, KeyKey))
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// maxClients bounds the cache; past it the cache starts again.
const maxClients = 256

// Clients shares one HTTP client, and so its keep-alive connections, among all Providers with
// the same proxy and TLS settings. Every client applies one egress policy. The zero value is not
// usable; use NewClients.
type Clients struct {
	policy *egress.Policy
	def    *http.Client
	mu     sync.Mutex
	m      map[string]*http.Client
}

// NewClients returns an empty cache of clients that connect only where policy allows.
func NewClients(policy *egress.Policy) *Clients {
	return &Clients{policy: policy, def: notifier.NewClient(nil, policy), m: map[string]*http.Client{}}
}

// Policy returns the egress policy of the clients.
func (c *Clients) Policy() *egress.Policy { return c.policy }

// Get returns the client for t, building it on first use. t must have passed resolveTransport.
func (c *Clients) Get(t Transport) *http.Client {
	if t.isDefault() {
		return c.def
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(proxyString(t.Proxy)), t.CA, t.Cert, t.Key} {
		h.Write([]byte(fmt.Sprintf("%d:", len(part))))
		h.Write(part)
	}
	key := hex.EncodeToString(h.Sum(nil))
	c.mu.Lock()
	defer c.mu.Unlock()
	if client, ok := c.m[key]; ok {
		return client
	}
	if len(c.m) >= maxClients {
		for _, old := range c.m {
			old.CloseIdleConnections()
		}
		c.m = map[string]*http.Client{}
	}
	client := notifier.NewClient(t.Proxy, c.policy)
	client.Transport.(*http.Transport).TLSClientConfig, _ = t.tlsConfig("")
	c.m[key] = client
	return client
}

func proxyString(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}
