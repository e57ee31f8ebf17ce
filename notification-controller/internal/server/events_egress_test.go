package server_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"weir.dev/notification-controller/internal/egress"
	"weir.dev/notification-controller/internal/harness"
	"weir.dev/notification-controller/internal/provider"
	"weir.dev/notification-controller/internal/server"
)

// metadataDNS resolves one name to the cloud metadata address and every other to nothing.
type metadataDNS struct{}

func (metadataDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "hooks.test" {
		return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// loopbackDialer dials only 127.0.0.1 and records every address it was asked for.
type loopbackDialer struct {
	mu    sync.Mutex
	asked []string
}

func (d *loopbackDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.asked = append(d.asked, addr)
	d.mu.Unlock()
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError("the test dials 127.0.0.1 only")}
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

// TestARefusedSendIsLoggedAndOthersStillDeliver routes one event to a Provider whose name
// resolves to the metadata address, which only a send can find out, and to a loopback webhook:
// the first is logged with the Provider and the address, never dialled; the second delivers.
func TestARefusedSendIsLoggedAndOthersStillDeliver(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	dialer := &loopbackDialer{}
	clients := provider.NewClients(&egress.Policy{AllowInternal: true, Resolver: metadataDNS{}, Dialer: dialer})
	url := eventsServer(t, m, func(o *server.EventServerOptions) { o.Clients = clients })

	hook := harness.NewDestination(t, nil)
	alertFor(t, m, ns, "metadata", "http://hooks.test/webhook", nil)
	alertFor(t, m, ns, "loopback", hook.URL, nil)
	postEvent(t, url, newEvent("GitRepository", ns, "app", "info", "NewArtifact", "stored", nil))

	hook.WaitFor(t, 1, 10*time.Second)
	want := "hooks.test:80 resolves to 169.254.169.254, a link-local address"
	harness.Eventually(t, 10*time.Second, func() error {
		for _, line := range strings.Split(m.Logs.String(), "\n") {
			if strings.Contains(line, "notification not delivered") && strings.Contains(line, ns+"/metadata") && strings.Contains(line, want) {
				return nil
			}
		}
		return errf("no log line names the Provider %s/metadata and %q", ns, want)
	})
	dialer.mu.Lock()
	defer dialer.mu.Unlock()
	for _, a := range dialer.asked {
		if !strings.HasPrefix(a, "127.0.0.1:") {
			t.Fatalf("dialled %s", a)
		}
	}
}
