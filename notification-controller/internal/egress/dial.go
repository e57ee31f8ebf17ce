package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Resolver looks up the addresses of a name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer connects; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

var defaultDialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}

// DialContext is an http.Transport DialContext. It resolves addr's host, refuses the whole
// dial when any of its addresses is refused (so a name cannot mix an allowed address with a
// refused one), and dials the checked addresses in turn, by IP, so nothing is resolved twice.
// Trusted proxies are dialled as they are.
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	dialer := p.Dialer
	if dialer == nil {
		dialer = defaultDialer
	}
	if slices.Contains(p.TrustedProxies, addr) {
		return dialer.DialContext(ctx, network, addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, resolved, err := p.lookup(ctx, network, host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if err := p.check(addr, ip, resolved); err != nil {
			return nil, err
		}
	}
	var errs []error
	for _, ip := range ips {
		conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// lookup returns host's addresses, and whether host was a name rather than a literal.
func (p *Policy) lookup(ctx context.Context, network, host string) ([]netip.Addr, bool, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, false, nil
	}
	var r Resolver = net.DefaultResolver
	if p.Resolver != nil {
		r = p.Resolver
	}
	ipNetwork := "ip"
	switch network {
	case "tcp4", "udp4":
		ipNetwork = "ip4"
	case "tcp6", "udp6":
		ipNetwork = "ip6"
	}
	ips, err := r.LookupNetIP(ctx, ipNetwork, host)
	if err != nil {
		return nil, true, err
	}
	if len(ips) == 0 {
		return nil, true, fmt.Errorf("%s has no address", host)
	}
	return ips, true, nil
}

// Proxy wraps an http.Transport Proxy function. When a request goes through a proxy, the dial
// only checks the proxy, so Proxy checks the destination with CheckURL. Names are not resolved
// here: the proxy resolves them, with its own view of DNS, and it is the proxy's operator (or,
// for a Provider's own proxy, the Provider's author) who decides where it may connect.
func (p *Policy) Proxy(next func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		proxy, err := next(req)
		if err != nil || proxy == nil {
			return proxy, err
		}
		if err := p.checkURL(req.URL); err != nil {
			return nil, err
		}
		return proxy, nil
	}
}

// CheckURL refuses a URL whose host is a literal address the policy refuses, or localhost; it
// is the check possible before sending, since names resolve only then. It ignores URLs that do
// not parse: their own validation reports them.
func (p *Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	return p.checkURL(u)
}

func (p *Policy) checkURL(u *url.URL) error {
	host := strings.ToLower(u.Hostname())
	ip, err := netip.ParseAddr(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		// RFC 6761: localhost names are loopback, wherever they are resolved.
		if err := p.check(u.Host, netip.MustParseAddr("127.0.0.1"), true); err != nil {
			return err
		}
		return nil
	}
	if err != nil {
		return nil
	}
	return p.check(u.Host, ip, false)
}

// EnvironmentProxies returns the host:port of the proxies in HTTPS_PROXY and HTTP_PROXY (either
// case), as a transport dials them, for Policy.TrustedProxies.
func EnvironmentProxies(getenv func(string) string) []string {
	var out []string
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		v := getenv(k)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			// net/http reads a bare host:port as an http proxy.
			if u, err = url.Parse("http://" + v); err != nil || u.Host == "" {
				continue
			}
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
			if port == "" {
				port = "80"
			}
		}
		addr := net.JoinHostPort(u.Hostname(), port)
		if !slices.Contains(out, addr) {
			out = append(out, addr)
		}
	}
	return out
}
