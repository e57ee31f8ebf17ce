package egress

import (
	"net/http"
	"testing"
)

func TestCheckRedirectKeepsCredentialsOnTheirOrigin(t *testing.T) {
	cases := []struct {
		from, to string
		keep     bool
	}{
		{"https://hooks.example.com/a", "https://hooks.example.com/b", true},
		{"https://hooks.example.com/a", "https://HOOKS.example.com:443/b", true},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b", true},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:8081/b", false},
		{"https://hooks.example.com/a", "http://hooks.example.com/b", false},
		{"https://hooks.example.com/a", "https://evil.example.com/b", false},
		{"https://example.com/a", "https://sub.example.com/b", false},
	}
	for _, tc := range cases {
		first, _ := http.NewRequest(http.MethodPost, tc.from, nil)
		next, _ := http.NewRequest(http.MethodPost, tc.to, nil)
		next.Header = http.Header{"Authorization": {"Bearer t"}, "X-Api-Key": {"k"}, "Content-Type": {"application/json"}, "User-Agent": {"weir"}}
		if err := CheckRedirect(next, []*http.Request{first}); err != nil {
			t.Fatalf("%s -> %s: %v", tc.from, tc.to, err)
		}
		kept := next.Header.Get("Authorization") != "" && next.Header.Get("X-Api-Key") != ""
		dropped := next.Header.Get("Authorization") == "" && next.Header.Get("X-Api-Key") == ""
		if (tc.keep && !kept) || (!tc.keep && !dropped) {
			t.Errorf("%s -> %s: headers %v, want credentials kept: %v", tc.from, tc.to, next.Header, tc.keep)
		}
		if next.Header.Get("Content-Type") != "application/json" || next.Header.Get("User-Agent") != "weir" {
			t.Errorf("%s -> %s: lost a safe header: %v", tc.from, tc.to, next.Header)
		}
	}
}

func TestCheckRedirectStopsAfterMaxRedirects(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	var via []*http.Request
	for range MaxRedirects {
		via = append(via, req)
		if err := CheckRedirect(req, via); err != nil {
			t.Fatalf("redirect %d: %v", len(via), err)
		}
	}
	if err := CheckRedirect(req, append(via, req)); err != http.ErrUseLastResponse {
		t.Fatalf("redirect %d: %v, want the last response", len(via)+1, err)
	}
}
