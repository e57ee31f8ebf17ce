package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Keys of the Secrets a certSecretRef and a proxySecretRef name.
const (
	KeyCA            = "ca.crt"
	KeyCert          = "tls.crt"
	KeyKey           = "tls.key"
	KeyProxyAddress  = "address"
	KeyProxyUsername = "username"
	KeyProxyPassword = "password"
)

// maxRedirects bounds the redirects a client follows.
const maxRedirects = 10

// TLSConfig returns the TLS configuration a certSecretRef Secret's data describes: `ca.crt`
// is trusted in addition to the system roots, and `tls.crt` with `tls.key` is the client
// certificate for mutual TLS. Either may be absent, but not half of the key pair.
func TLSConfig(data map[string][]byte) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca := data[KeyCA]; len(ca) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%q holds no PEM certificate", KeyCA)
		}
		cfg.RootCAs = pool
	}
	cert, key := data[KeyCert], data[KeyKey]
	switch {
	case len(cert) > 0 && len(key) > 0:
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%q and %q are not a valid key pair", KeyCert, KeyKey)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case len(cert) > 0 || len(key) > 0:
		return nil, fmt.Errorf("mutual TLS needs both %q and %q", KeyCert, KeyKey)
	}
	if cfg.RootCAs == nil && cfg.Certificates == nil {
		return nil, fmt.Errorf("neither %q nor %q and %q is set", KeyCA, KeyCert, KeyKey)
	}
	return cfg, nil
}

// ProxyURL returns the proxy a proxySecretRef Secret's data describes.
func ProxyURL(data map[string][]byte) (*url.URL, error) {
	addr := string(data[KeyProxyAddress])
	if addr == "" {
		return nil, fmt.Errorf("no %q key", KeyProxyAddress)
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%q is not an http(s) URL", KeyProxyAddress)
	}
	if user := string(data[KeyProxyUsername]); user != "" {
		u.User = url.UserPassword(user, string(data[KeyProxyPassword]))
	}
	return u, nil
}

// Options configure NewClient.
type Options struct {
	// TLS is the client's TLS configuration; nil for the defaults.
	TLS *tls.Config
	// Proxy, when set, is used for every request.
	Proxy *url.URL
	// ResponseHeaderTimeout bounds the wait for a response's headers; zero means no bound
	// beyond the request's context.
	ResponseHeaderTimeout time.Duration
}

// NewClient returns an HTTP client for one upstream. Its redirect policy follows at most ten
// redirects and removes the Authorization header from any redirect to a host (host:port)
// other than the original request's, whatever Go's own policy would do.
func NewClient(o Options) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if o.TLS != nil {
		t.TLSClientConfig = o.TLS
	}
	t.Proxy = nil
	if o.Proxy != nil {
		t.Proxy = http.ProxyURL(o.Proxy)
	}
	t.ResponseHeaderTimeout = o.ResponseHeaderTimeout
	return &http.Client{Transport: t, CheckRedirect: checkRedirect}
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		req.Header.Del("Authorization")
	}
	return nil
}
