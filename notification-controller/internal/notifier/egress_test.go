package notifier

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"weir.dev/notification-controller/internal/egress"
)

// dialRecorder dials loopback addresses for real and records every address it is asked for;
// it refuses anything else without connecting, so a test cannot reach beyond 127.0.0.1.
type dialRecorder struct {
	mu    sync.Mutex
	addrs []string
}

func (d *dialRecorder) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	if ap, err := netip.ParseAddrPort(addr); err != nil || !ap.Addr().IsLoopback() {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError("the test dials loopback only")}
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

func (d *dialRecorder) dialled() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

// resolver answers one name with one address.
type resolver struct{ name, ip string }

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host != r.name {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.Addr{netip.MustParseAddr(r.ip)}, nil
}

func TestMetadataAddressesAreRefusedEvenWithInternalAllowed(t *testing.T) {
	cases := []struct {
		address, want string
		resolver      egress.Resolver
	}{
		{address: "http://169.254.169.254/latest/meta-data/", want: "169.254.169.254:80 is a link-local address"},
		{address: "http://[fd00:ec2::254]/latest/", want: "[fd00:ec2::254]:80 is a cloud metadata address"},
		{address: "http://metadata.test/computeMetadata/v1/", resolver: resolver{"metadata.test", "169.254.169.254"},
			want: "metadata.test:80 resolves to 169.254.169.254, a link-local address"},
	}
	for _, tc := range cases {
		dialer := &dialRecorder{}
		policy := &egress.Policy{AllowInternal: true, Resolver: tc.resolver, Dialer: dialer}
		n, err := New(Config{Type: "generic", Address: tc.address, Headers: map[string]string{"Authorization": testToken}, Client: NewClient(nil, policy)})
		if err != nil {
			t.Fatal(err)
		}
		err = n.Post(context.Background(), testEvent("info"))
		if err == nil || !strings.Contains(err.Error(), tc.want) || Retryable(err) {
			t.Errorf("%s: got %v, want a permanent refusal with %q", tc.address, err, tc.want)
		}
		if got := dialer.dialled(); len(got) != 0 {
			t.Errorf("%s: dialled %v", tc.address, got)
		}
	}
}

func TestLoopbackProvidersNeedInternalAllowed(t *testing.T) {
	srv := newFakeServer(t, http.StatusOK, "")
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, allow := range []bool{false, true} {
		dialer := &dialRecorder{}
		client := NewClient(nil, &egress.Policy{AllowInternal: allow, Dialer: dialer})
		n, err := New(Config{Type: "generic", Address: srv.URL + "/hook", Client: client})
		if err != nil {
			t.Fatal(err)
		}
		err = n.Post(context.Background(), testEvent("info"))
		got := dialer.dialled()
		if !allow && (err == nil || !strings.Contains(err.Error(), addr+" is a loopback address") || len(got) != 0) {
			t.Errorf("without AllowInternal: got %v after dialling %v, want a refusal before any dial", err, got)
		}
		if allow && (err != nil || len(got) != 1 || got[0] != addr) {
			t.Errorf("with AllowInternal: got %v after dialling %v, want delivery to %s", err, got, addr)
		}
	}
	if got := len(srv.received()); got != 1 {
		t.Fatalf("the server got %d requests, want the one allowed", got)
	}
	// A Config without a client gets the strictest policy.
	n, _ := New(Config{Type: "generic", Address: srv.URL + "/hook"})
	if err := n.Post(context.Background(), testEvent("info")); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("the default client: %v", err)
	}
}

func TestProxiedRequestsAreCheckedBeforeReachingTheProxy(t *testing.T) {
	proxy := newFakeServer(t, http.StatusOK, "")
	proxyURL, _ := url.Parse(proxy.URL)
	client := NewClient(proxyURL, &egress.Policy{AllowInternal: true})
	for _, address := range []string{"http://169.254.169.254/latest/", "http://[fd00:ec2::254]/latest/"} {
		n, _ := New(Config{Type: "generic", Address: address, Client: client})
		if err := n.Post(context.Background(), testEvent("info")); err == nil || !strings.Contains(err.Error(), "never reach") {
			t.Errorf("%s: got %v, want a refusal", address, err)
		}
	}
	if got := len(proxy.received()); got != 0 {
		t.Fatalf("the proxy got %d requests", got)
	}
}
