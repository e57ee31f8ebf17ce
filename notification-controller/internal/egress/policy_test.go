package egress

import (
	"net/netip"
	"strings"
	"testing"
)

func TestPolicyClassifiesAddresses(t *testing.T) {
	extra := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	cases := []struct {
		ip   string
		what string // "" for an address every policy allows
		// always: refused even with AllowInternal.
		always bool
	}{
		{"169.254.169.254", "link-local", true},
		{"::ffff:169.254.169.254", "link-local", true},
		{"64:ff9b::a9fe:a9fe", "link-local", true}, // NAT64 of 169.254.169.254
		{"fe80::1%eth0", "link-local", true},
		{"fd00:ec2::254", "cloud metadata", true},
		{"100.100.100.200", "cloud metadata", true},
		{"0.0.0.0", "unspecified", true},
		{"::", "unspecified", true},
		{"224.0.0.251", "multicast", true},
		{"ff02::1", "multicast", true},
		{"127.0.0.1", "loopback", false},
		{"127.8.9.10", "loopback", false},
		{"::1", "loopback", false},
		{"10.96.0.1", "private", false},
		{"172.20.0.10", "private", false},
		{"192.168.1.1", "private", false},
		{"fd12:3456::1", "private", false},
		{"100.64.0.1", "shared (carrier-grade NAT)", false},
		{"203.0.113.7", "cluster-internal", false},
		{"198.51.100.7", "", false},
		{"2001:db8::1", "", false},
	}
	for _, tc := range cases {
		ip := netip.MustParseAddr(tc.ip)
		strict := &Policy{InternalPrefixes: extra}
		allowing := &Policy{AllowInternal: true, InternalPrefixes: extra}
		err, errAllowing := strict.Check(ip), allowing.Check(ip)
		switch {
		case tc.what == "":
			if err != nil || errAllowing != nil {
				t.Errorf("%s: refused: %v, %v", tc.ip, err, errAllowing)
			}
		case err == nil:
			t.Errorf("%s: allowed, want refused as %s", tc.ip, tc.what)
		case !strings.Contains(err.Error(), tc.ip+" is a "+tc.what+" address"):
			t.Errorf("%s: %v, want it named a %s address", tc.ip, err, tc.what)
		case tc.always && errAllowing == nil:
			t.Errorf("%s: allowed with AllowInternal", tc.ip)
		case !tc.always && errAllowing != nil:
			t.Errorf("%s: refused with AllowInternal: %v", tc.ip, errAllowing)
		case !tc.always && !strings.Contains(err.Error(), AllowInternalFlag):
			t.Errorf("%s: %v does not name %s", tc.ip, err, AllowInternalFlag)
		}
	}
}

func TestCheckURLRefusesLiteralAddressesOnly(t *testing.T) {
	strict := &Policy{}
	cases := []struct{ url, want string }{
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"},
		{"http://user:pass@[fd00:ec2::254]:8080/x", "[fd00:ec2::254]:8080 is a cloud metadata address"},
		{"http://127.0.0.1:9090/hook", "127.0.0.1:9090 is a loopback address"},
		{"http://LOCALHOST:9090/hook", "LOCALHOST:9090 resolves to 127.0.0.1, a loopback address"},
		{"http://api.localhost/", "api.localhost resolves to 127.0.0.1"},
		{"https://hooks.slack.com/services/x", ""},
		{"https://198.51.100.7/", ""},
		{"not a url\x7f", ""},
	}
	for _, tc := range cases {
		err := strict.CheckURL(tc.url)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.url, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.url, err, tc.want)
		} else if strings.Contains(err.Error(), "pass") || strings.Contains(err.Error(), "/") {
			t.Errorf("%q: the message quotes more than the host: %v", tc.url, err)
		}
	}
	if err := (&Policy{AllowInternal: true}).CheckURL("http://10.0.0.1/"); err != nil {
		t.Errorf("AllowInternal: %v", err)
	}
}

func TestEnvironmentProxies(t *testing.T) {
	env := map[string]string{
		"HTTPS_PROXY": "http://user:pw@squid.infra.svc:3128",
		"http_proxy":  "proxy.corp:8080",
		"HTTP_PROXY":  "https://secure-proxy.corp",
	}
	got := EnvironmentProxies(func(k string) string { return env[k] })
	want := []string{"squid.infra.svc:3128", "secure-proxy.corp:443", "proxy.corp:8080"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", got, want)
	}
}
