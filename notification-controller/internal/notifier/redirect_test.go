package notifier

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"weir.dev/notification-controller/internal/egress"
)

// credentialed returns, for every type, a Config to the server at u carrying a credential in
// each place that type puts one: Authorization (bearer or basic), the Secret's headers, the
// path and the query.
func credentialed(u string) []Config {
	return []Config{
		{Type: "slack", Address: u + "/services/T0/B0/" + testToken},
		{Type: "slack", Address: u + "/api/chat.postMessage", Token: testToken, Channel: "C0"},
		{Type: "discord", Address: u + "/api/webhooks/1/" + testToken},
		{Type: "mattermost", Address: u + "/hooks/" + testToken},
		{Type: "rocket", Address: u + "/hooks/x/" + testToken},
		{Type: "msteams", Address: u + "/workflows/" + testToken},
		{Type: "googlechat", Address: u + "/v1/spaces/AAA/messages?key=k&token=" + testToken},
		{Type: "telegram", Address: u, Token: testToken, Channel: "-100"},
		{Type: "alertmanager", Address: u + "/api/v2/alerts", BasicUser: "am", BasicPassword: testToken},
		{Type: "alertmanager", Address: u + "/api/v2/alerts", Token: testToken},
		{Type: "generic", Address: u + "/hook", BasicUser: "u", BasicPassword: testToken,
			Headers: map[string]string{"X-Api-Key": testToken, "X-Custom-Auth": "Token " + testToken}},
		{Type: "generic", Address: u + "/hook", Headers: map[string]string{"Authorization": "Bearer " + testToken}},
		{Type: "generic-hmac", Address: u + "/hook", Token: testToken},
		{Type: "github", Address: u + "/org/app", Token: testToken},
		{Type: "gitlab", Address: u + "/group/app", Token: testToken},
		{Type: "gitea", Address: u + "/org/app", Token: testToken},
		{Type: "bitbucket", Address: u + "/ws/app", Token: testToken},
		{Type: "bitbucket", Address: u + "/ws/app", Token: "jdoe:" + testToken},
		{Type: "bitbucketserver", Address: u + "/scm/PRJ/app.git", Token: testToken},
		{Type: "bitbucketserver", Address: u + "/scm/PRJ/app.git", BasicUser: "jdoe", BasicPassword: testToken},
	}
}

// redirectingTo makes f answer every request with a 307 (which keeps the method and body) to
// target, or, when target is empty, to /landed on f itself; /landed gets f's usual answer.
func redirectingTo(f *fakeServer, target string) {
	inner := f.Config.Handler
	f.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/landed" && target == "" {
			inner.ServeHTTP(w, r)
			return
		}
		inner.ServeHTTP(discard{}, r) // record the request
		to := target + "/landed"
		http.Redirect(w, r, to, http.StatusTemporaryRedirect)
	})
}

// discard is a ResponseWriter that drops what it is given.
type discard struct{}

func (d discard) Header() http.Header         { return http.Header{} }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

// carriesNoCredential are the headers that may follow a redirect to another origin.
var carriesNoCredential = map[string]bool{"Accept": true, "Accept-Encoding": true, "Content-Type": true, "Content-Length": true, "User-Agent": true}

func TestCrossOriginRedirectsArriveWithoutCredentials(t *testing.T) {
	for _, c := range credentialed("{ORIGIN}") {
		name := c.Type + " " + strings.ReplaceAll(strings.TrimPrefix(c.Address, "{ORIGIN}"), testToken, "TOKEN")
		t.Run(name, func(t *testing.T) {
			// Both listen on 127.0.0.1: only the port tells the origins apart.
			other := newFakeServer(t, http.StatusOK, `{"ok":true}`)
			origin := newFakeServer(t, http.StatusOK, "")
			redirectingTo(origin, other.URL)
			c.Address = strings.Replace(c.Address, "{ORIGIN}", origin.URL, 1)
			n, err := New(onLoopback(c))
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Post(context.Background(), testEvent("info")); err != nil {
				t.Fatalf("Post: %v", err)
			}
			if len(origin.received()) != 1 || len(other.received()) != 1 {
				t.Fatalf("origin got %d requests, the other server %d; want 1 each", len(origin.received()), len(other.received()))
			}
			first, got := origin.received()[0], other.received()[0]
			if got.Method != http.MethodPost || len(got.Body) == 0 || string(got.Body) != string(first.Body) {
				t.Errorf("the redirect arrived as %s with %d bytes, want the POST and its body", got.Method, len(got.Body))
			}
			for k := range first.Header {
				if !carriesNoCredential[k] && got.Header.Get(k) != "" {
					t.Errorf("header %s followed the redirect: %q", k, got.Header.Get(k))
				}
			}
			if got.User != "" || got.Password != "" {
				t.Errorf("basic auth followed the redirect: %q", got.User)
			}
			if strings.Contains(got.Path+got.RawQuery, testToken) {
				t.Errorf("the token followed the redirect in %s?%s", got.Path, got.RawQuery)
			}
		})
	}
}

func TestSameOriginRedirectsKeepCredentials(t *testing.T) {
	for _, c := range credentialed("{ORIGIN}") {
		name := c.Type + " " + strings.ReplaceAll(strings.TrimPrefix(c.Address, "{ORIGIN}"), testToken, "TOKEN")
		t.Run(name, func(t *testing.T) {
			srv := newFakeServer(t, http.StatusOK, `{"ok":true}`)
			redirectingTo(srv, "")
			c.Address = strings.Replace(c.Address, "{ORIGIN}", srv.URL, 1)
			n, err := New(onLoopback(c))
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Post(context.Background(), testEvent("info")); err != nil {
				t.Fatalf("Post: %v", err)
			}
			reqs := srv.received()
			if len(reqs) != 2 || reqs[1].Path != "/landed" {
				t.Fatalf("the server got %d requests, want the first and /landed", len(reqs))
			}
			first, got := reqs[0], reqs[1]
			for k := range first.Header {
				if got.Header.Get(k) != first.Header.Get(k) {
					t.Errorf("header %s = %q after the redirect, was %q", k, got.Header.Get(k), first.Header.Get(k))
				}
			}
			if got.User != first.User || got.Password != first.Password {
				t.Errorf("basic auth %q after the redirect, was %q", got.User, first.User)
			}
		})
	}
}

func TestRedirectsAreBounded(t *testing.T) {
	srv := newFakeServer(t, http.StatusOK, "")
	inner := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(discard{}, r)
		http.Redirect(w, r, "/again", http.StatusTemporaryRedirect)
	})
	n, err := New(onLoopback(Config{Type: "generic", Address: srv.URL + "/hook"}))
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(context.Background(), testEvent("info"))
	if err == nil || !strings.Contains(err.Error(), "307") || Retryable(err) {
		t.Fatalf("got %v, want a permanent error naming the 307", err)
	}
	if got := len(srv.received()); got != 1+egress.MaxRedirects {
		t.Fatalf("the server got %d requests, want %d", got, 1+egress.MaxRedirects)
	}
}
