package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// recorder is a Dialer that records what it is asked to dial and connects to nothing.
type recorder struct {
	mu    sync.Mutex
	addrs []string
}

var errNotConnecting = errors.New("the test dialer connects to nothing")

func (r *recorder) DialContext(_ context.Context, _, addr string) (net.Conn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addrs = append(r.addrs, addr)
	return nil, errNotConnecting
}

func (r *recorder) dialled() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.addrs...)
}

// hosts is a Resolver answering from a map.
type hosts map[string][]string

func (h hosts) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range h[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if out == nil {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

var testHosts = hosts{
	"metadata.test": {"169.254.169.254"},
	"imds6.test":    {"fd00:ec2::254"},
	"mixed.test":    {"198.51.100.7", "10.0.0.5"},
	"public.test":   {"198.51.100.7", "2001:db8::7"},
	"internal.test": {"10.0.0.5"},
}

func TestDialRefusesBeforeConnecting(t *testing.T) {
	cases := []struct {
		addr          string
		allowInternal bool
		want          string // the refusal; "" when the dial goes ahead
		dialled       []string
	}{
		{addr: "169.254.169.254:80", allowInternal: true, want: "169.254.169.254:80 is a link-local address"},
		{addr: "[fd00:ec2::254]:80", allowInternal: true, want: "is a cloud metadata address"},
		{addr: "metadata.test:80", allowInternal: true, want: "metadata.test:80 resolves to 169.254.169.254, a link-local address"},
		{addr: "imds6.test:443", allowInternal: true, want: "resolves to fd00:ec2::254, a cloud metadata address"},
		{addr: "127.0.0.1:8080", want: "127.0.0.1:8080 is a loopback address"},
		{addr: "internal.test:80", want: "internal.test:80 resolves to 10.0.0.5, a private address"},
		// One refused address refuses the name, whatever the order.
		{addr: "mixed.test:80", want: "resolves to 10.0.0.5"},
		{addr: "127.0.0.1:8080", allowInternal: true, dialled: []string{"127.0.0.1:8080"}},
		{addr: "internal.test:80", allowInternal: true, dialled: []string{"10.0.0.5:80"}},
		// Names are dialled by the addresses checked, each in turn.
		{addr: "public.test:443", dialled: []string{"198.51.100.7:443", "[2001:db8::7]:443"}},
	}
	for _, tc := range cases {
		rec := &recorder{}
		p := &Policy{AllowInternal: tc.allowInternal, Resolver: testHosts, Dialer: rec}
		_, err := p.DialContext(context.Background(), "tcp", tc.addr)
		var refused *RefusedError
		if tc.want != "" {
			if !errors.As(err, &refused) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: got %v, want a refusal with %q", tc.addr, err, tc.want)
			}
		} else if !errors.Is(err, errNotConnecting) {
			t.Errorf("%s: got %v, want the dial to go ahead", tc.addr, err)
		}
		if got := rec.dialled(); strings.Join(got, ",") != strings.Join(tc.dialled, ",") {
			t.Errorf("%s: dialled %v, want %v", tc.addr, got, tc.dialled)
		}
	}
}

func TestDialTrustsTheOperatorsProxiesOnly(t *testing.T) {
	rec := &recorder{}
	p := &Policy{Resolver: testHosts, Dialer: rec, TrustedProxies: []string{"internal.test:3128"}}
	if _, err := p.DialContext(context.Background(), "tcp", "internal.test:3128"); !errors.Is(err, errNotConnecting) {
		t.Fatalf("the trusted proxy: %v", err)
	}
	if _, err := p.DialContext(context.Background(), "tcp", "internal.test:80"); err == nil || errors.Is(err, errNotConnecting) {
		t.Fatalf("another port of the proxy's host: %v", err)
	}
	if got := rec.dialled(); strings.Join(got, ",") != "internal.test:3128" {
		t.Fatalf("dialled %v", got)
	}
}

func TestProxyChecksTheDestination(t *testing.T) {
	proxyURL, _ := url.Parse("http://internal.test:3128")
	p := &Policy{Resolver: hosts{}} // any lookup would fail
	proxy := p.Proxy(http.ProxyURL(proxyURL))
	for dest, refused := range map[string]bool{
		"http://169.254.169.254/latest/meta-data/": true,
		"http://[fd00:ec2::254]/":                  true,
		"http://10.0.0.5/":                         true,
		"http://localhost:8080/":                   true,
		"https://198.51.100.7/hook":                false,
		"https://metadata.test/hook":               false, // names are the proxy's to resolve
	} {
		req, _ := http.NewRequest(http.MethodPost, dest, nil)
		got, err := proxy(req)
		var re *RefusedError
		if refused && (!errors.As(err, &re) || got != nil) {
			t.Errorf("%s: got %v, %v; want a refusal", dest, got, err)
		}
		if !refused && (err != nil || got != proxyURL) {
			t.Errorf("%s: got %v, %v; want the proxy", dest, got, err)
		}
	}
}
