package egress

import (
	"fmt"
	"net/netip"
	"strings"
)

// AllowInternalFlag is the notification-controller flag that lets notifications reach
// cluster-internal addresses; refusals name it.
const AllowInternalFlag = "--allow-internal-addresses"

// Policy says which addresses may be dialled. The zero value refuses cluster-internal addresses
// and uses the system resolver and a plain dialer.
type Policy struct {
	// AllowInternal lets connections reach cluster-internal addresses. Link-local and metadata
	// addresses stay refused.
	AllowInternal bool
	// InternalPrefixes are more cluster-internal ranges, e.g. the cluster's service and pod CIDRs
	// when they lie outside the private ranges.
	InternalPrefixes []netip.Prefix
	// TrustedProxies are the host:port of proxies the operator configured (HTTPS_PROXY and
	// HTTP_PROXY): dialling them is not checked, the destinations sent through them are.
	TrustedProxies []string
	// Resolver looks names up; net.DefaultResolver when nil.
	Resolver Resolver
	// Dialer connects to an address that passed the check, always an IP literal and port;
	// a net.Dialer with a 10s timeout when nil.
	Dialer Dialer
}

// class is what a range of addresses is, for the policy and for messages.
type class struct {
	prefix netip.Prefix
	what   string
	// always: refused even when AllowInternal is set.
	always bool
}

func mustClasses(always bool, pairs ...string) []class {
	var cs []class
	for i := 0; i < len(pairs); i += 2 {
		cs = append(cs, class{prefix: netip.MustParsePrefix(pairs[i]), what: pairs[i+1], always: always})
	}
	return cs
}

// classes are checked in order, so the metadata addresses inside internal ranges come first.
var classes = append(mustClasses(true,
	"169.254.0.0/16", "link-local",
	"fe80::/10", "link-local",
	"fd00:ec2::254/128", "cloud metadata", // AWS IMDS over IPv6
	"100.100.100.200/32", "cloud metadata", // Alibaba Cloud
	"168.63.129.16/32", "cloud metadata", // Azure WireServer
	"0.0.0.0/8", "unspecified",
	"::/128", "unspecified",
	"224.0.0.0/4", "multicast",
	"ff00::/8", "multicast",
	"255.255.255.255/32", "broadcast",
), mustClasses(false,
	"127.0.0.0/8", "loopback",
	"::1/128", "loopback",
	"10.0.0.0/8", "private",
	"172.16.0.0/12", "private",
	"192.168.0.0/16", "private",
	"fc00::/7", "private",
	"100.64.0.0/10", "shared (carrier-grade NAT)",
)...)

// nat64 is the well-known NAT64 prefix; an address in it reaches the IPv4 address it embeds.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// classify returns the class of ip, or nil for an address the policy allows everywhere.
func (p *Policy) classify(ip netip.Addr) *class {
	ip = ip.WithZone("").Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	for i := range classes {
		if classes[i].prefix.Contains(ip) {
			return &classes[i]
		}
	}
	for _, pr := range p.InternalPrefixes {
		if pr.Contains(ip) {
			return &class{prefix: pr, what: "cluster-internal"}
		}
	}
	return nil
}

// Check returns a *RefusedError when the policy refuses the literal address ip.
func (p *Policy) Check(ip netip.Addr) error { return p.check(ip.String(), ip, false) }

// check returns a *RefusedError when the policy refuses ip; asked is what was asked for (the
// address or, when resolved, the name, either with or without a port), only for the message.
func (p *Policy) check(asked string, ip netip.Addr, resolved bool) error {
	c := p.classify(ip)
	if c == nil || (!c.always && p.AllowInternal) {
		return nil
	}
	return &RefusedError{Asked: asked, IP: ip, Resolved: resolved, What: c.what, Always: c.always}
}

// RefusedError is a connection the policy refused before dialling.
type RefusedError struct {
	// Asked is the address or name asked for, with or without a port.
	Asked string
	// IP is the address refused: Asked itself, or what it resolved to when Resolved.
	IP       netip.Addr
	Resolved bool
	// What names the kind of address, e.g. "link-local".
	What string
	// Always is true for addresses no flag allows.
	Always bool
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	if e.Resolved {
		fmt.Fprintf(&b, "%s resolves to %s, a %s address", e.Asked, e.IP, e.What)
	} else {
		fmt.Fprintf(&b, "%s is a %s address", e.Asked, e.What)
	}
	if e.Always {
		b.WriteString(", which notifications never reach")
	} else {
		b.WriteString(", refused unless notification-controller runs with " + AllowInternalFlag)
	}
	return b.String()
}
