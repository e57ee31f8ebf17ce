package transport

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRedirectDropsCredentialsToAnotherHost: a redirect to another host:port never carries the
// Authorization header; one to the same host does.
func TestRedirectDropsCredentialsToAnotherHost(t *testing.T) {
	seen := make(chan string, 2)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Authorization")
	}))
	defer other.Close()
	var origin *httptest.Server
	origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/here":
			http.Redirect(w, r, origin.URL+"/end", http.StatusFound)
		default:
			seen <- r.Header.Get("Authorization")
		}
	}))
	defer origin.Close()

	c := NewClient(Options{})
	for _, tc := range []struct {
		path     string
		wantAuth bool
	}{{"/away", false}, {"/here", true}} {
		req, _ := http.NewRequest(http.MethodGet, origin.URL+tc.path, nil)
		req.SetBasicAuth("user", "S3cr3t-Redirect")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := <-seen; (got != "") != tc.wantAuth {
			t.Errorf("%s: Authorization %q reached the redirect target; want present=%v", tc.path, got, tc.wantAuth)
		}
	}
}

func TestTLSConfigNamesKeysNotValues(t *testing.T) {
	cases := []struct {
		name string
		data map[string][]byte
		want string
	}{
		{"garbage CA", map[string][]byte{KeyCA: []byte("not-a-pem-Zq7")}, `"ca.crt" holds no PEM certificate`},
		{"half a key pair", map[string][]byte{KeyCert: []byte("x")}, `needs both "tls.crt" and "tls.key"`},
		{"bad key pair", map[string][]byte{KeyCert: []byte("c-Zq7"), KeyKey: []byte("k-Zq7")}, "not a valid key pair"},
		{"empty", map[string][]byte{}, "neither"},
	}
	for _, tc := range cases {
		_, err := TLSConfig(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "Zq7") {
			t.Errorf("%s: error %v, want one containing %q and no secret value", tc.name, err, tc.want)
		}
	}
}
