package notifier

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
)

func TestGenericHMACSignsTheExactBody(t *testing.T) {
	srv := newFakeServer(t, http.StatusAccepted, "")
	n, err := New(onLoopback(Config{Type: "generic-hmac", Address: srv.URL + "/in", Token: testToken}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), testEvent("info")); err != nil {
		t.Fatal(err)
	}
	r := srv.received()[0]
	want := "sha256=" + Sign([]byte(testToken), r.Body)
	if got := r.Header.Get(SignatureHeader); got != want {
		t.Fatalf("%s = %q, want %q", SignatureHeader, got, want)
	}
	jsonEqual(t, r.Body, sevs["info"].r(genericBody))
	if _, err := New(Config{Type: "generic-hmac", Address: srv.URL}); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("generic-hmac without a token: %v", err)
	}
}

func TestMSTeamsLegacyConnectorGetsAMessageCard(t *testing.T) {
	srv := newFakeServer(t, http.StatusOK, "1")
	// Send a request for the Office 365 host to the loopback server.
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", srv.Listener.Addr().String())
	}}}
	n, err := New(Config{Type: "msteams", Address: "http://example.webhook.office.com/webhookb2/" + testToken, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), testEvent("error")); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, srv.received()[0].Body, sevs["error"].r(`{"@type":"MessageCard","@context":"https://schema.org/extensions","themeColor":"{COLOURHEX}",
	 "summary":"Kustomization apps/podinfo","sections":[{"activityTitle":"Kustomization apps/podinfo","activitySubtitle":"{TEXT}","markdown":true,
	 "facts":[{"name":"Reason","value":"{REASON}"},{"name":"Severity","value":"{SEVERITY}"},
	  {"name":"Revision","value":"[main@sha1:{SHA}](https://github.com/org/app/commit/{SHA})"},{"name":"env","value":"prod"}]}]}`))
}

func TestCommitStatusTypesSkipEventsWithoutACommitAndMarkProgressingPending(t *testing.T) {
	for _, typ := range []string{"github", "gitlab", "gitea", "bitbucket", "bitbucketserver"} {
		t.Run(typ, func(t *testing.T) {
			srv := newFakeServer(t, http.StatusCreated, "{}")
			addr := srv.URL + "/org/app"
			if typ == "bitbucketserver" {
				addr = srv.URL + "/scm/org/app.git"
			}
			n, err := New(onLoopback(Config{Type: typ, Address: addr, Token: testToken}))
			if err != nil {
				t.Fatal(err)
			}
			e := testEvent("info")
			e.Metadata = map[string]string{"revision": "v1.0.0@sha256:" + strings.Repeat("ab", 32)} // an OCI digest
			if err := n.Post(context.Background(), e); err != nil {
				t.Fatal(err)
			}
			if got := len(srv.received()); got != 0 {
				t.Fatalf("an event without a commit sent %d requests", got)
			}
			e = testEvent("info")
			e.Reason = "Progressing"
			if err := n.Post(context.Background(), e); err != nil {
				t.Fatal(err)
			}
			body := string(srv.received()[0].Body)
			want := map[string]string{"github": `"state":"pending"`, "gitlab": `"state":"running"`, "gitea": `"state":"pending"`,
				"bitbucket": `"state":"INPROGRESS"`, "bitbucketserver": `"state":"INPROGRESS"`}[typ]
			if !strings.Contains(body, want) {
				t.Fatalf("body %s lacks %s", body, want)
			}
		})
	}
}

func TestGitLabTreatsAnUnchangedStatusAsDelivered(t *testing.T) {
	srv := newFakeServer(t, http.StatusBadRequest, `{"message":"Cannot transition status via :run from :running"}`)
	n, _ := New(onLoopback(Config{Type: "gitlab", Address: srv.URL + "/g/app", Token: testToken}))
	if err := n.Post(context.Background(), testEvent("info")); err != nil {
		t.Fatalf("want success, got %v", err)
	}
}

func TestAPIFailuresInA200AreErrors(t *testing.T) {
	cases := []struct{ typ, path, answer, want string }{
		{"slack", "/api/chat.postMessage", `{"ok":false,"error":"channel_not_found"}`, "channel_not_found"},
		{"telegram", "", `{"ok":false,"description":"Bad Request: chat not found"}`, "chat not found"},
	}
	for _, tc := range cases {
		srv := newFakeServer(t, http.StatusOK, tc.answer)
		n, err := New(onLoopback(Config{Type: tc.typ, Address: srv.URL + tc.path, Token: testToken, Channel: "c"}))
		if err != nil {
			t.Fatal(err)
		}
		err = n.Post(context.Background(), testEvent("info"))
		if err == nil || !strings.Contains(err.Error(), tc.want) || Retryable(err) {
			t.Errorf("%s: got %v, want a permanent error naming %q", tc.typ, err, tc.want)
		}
	}
}

func TestErrorsNeverContainSecrets(t *testing.T) {
	// The server echoes what it got, as some APIs do in their error messages.
	echo := newFakeServer(t, http.StatusInternalServerError, "")
	echo.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("failed for " + r.URL.Path + " with " + r.Header.Get("Authorization")))
	})
	closed := newFakeServer(t, 200, "")
	closedURL := closed.URL
	closed.Close()

	cases := []Config{
		{Type: "slack", Address: echo.URL + "/services/" + testToken},
		{Type: "telegram", Address: echo.URL, Token: testToken, Channel: "1"},
		{Type: "github", Address: echo.URL + "/o/r", Token: testToken},
		{Type: "generic", Address: echo.URL + "/x", Headers: map[string]string{"Authorization": testToken}},
		{Type: "slack", Address: closedURL + "/services/" + testToken},
		{Type: "telegram", Address: closedURL, Token: testToken, Channel: "1"},
		{Type: "discord", Address: "http://user:" + testToken + "@" + strings.TrimPrefix(closedURL, "http://") + "/x"},
	}
	for _, c := range cases {
		n, err := New(onLoopback(c))
		if err != nil {
			t.Fatal(err)
		}
		err = n.Post(context.Background(), testEvent("error"))
		if err == nil {
			t.Fatalf("%s: want an error", c.Type)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: the error leaks the token: %v", c.Type, err)
		}
		if !Retryable(err) {
			t.Errorf("%s: %v should be retryable", c.Type, err)
		}
	}
	// A malformed address is reported without being quoted.
	_, err := New(Config{Type: "slack", Address: "http://h/\x7f" + testToken})
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Fatalf("got %v", err)
	}
}

func TestRetryable(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&StatusError{Code: 500}, true},
		{&StatusError{Code: 503, RetryAfter: 2 * time.Second}, true},
		{&StatusError{Code: 429}, true},
		{&StatusError{Code: 408}, true},
		{&StatusError{Code: 400}, false},
		{&StatusError{Code: 404}, false},
		{permanentf("bad"), false},
		{errors.New("connection reset"), true},
		{nil, false},
	}
	for _, tc := range cases {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v", tc.err, got)
		}
	}
	if d := RetryAfter(&StatusError{Code: 503, RetryAfter: 2 * time.Second}); d != 2*time.Second {
		t.Errorf("RetryAfter = %s", d)
	}
}

func TestNewNamesWhatIsMissing(t *testing.T) {
	cases := []struct {
		c    Config
		want string
	}{
		{Config{Type: "github", Address: "https://github.com/o/r"}, "token"},
		{Config{Type: "github", Address: "https://github.com/o", Token: "t"}, "must name a repository"},
		{Config{Type: "github", Address: "https://github.com/a/b/c", Token: "t"}, "<owner>/<repo>"},
		{Config{Type: "github", Address: "https://x:" + testToken + "@github.com/o/r", Token: "t"}, "must not embed credentials"},
		{Config{Type: "telegram", Token: "t"}, "spec.channel"},
		{Config{Type: "telegram", Channel: "1"}, "token"},
		{Config{Type: "slack", Address: "https://slack.com/api/chat.postMessage", Token: "t"}, "spec.channel"},
		{Config{Type: "slack", Address: "https://slack.com/api/chat.postMessage", Channel: "c"}, "token"},
		{Config{Type: "bitbucketserver", Address: "https://bb/scm/p/r.git"}, "token"},
		{Config{Type: "bitbucketserver", Address: "https://bb/p/r", Token: "t"}, "scm"},
		{Config{Type: "generic", Address: "ftp://x"}, "http(s)"},
		{Config{Type: "signal", Address: "https://x"}, "unsupported type"},
	}
	for _, tc := range cases {
		_, err := New(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: got %v, want an error with %q", tc.c.Type, tc.c.Address, err, tc.want)
		} else if strings.Contains(err.Error(), testToken) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}

func TestAPIBases(t *testing.T) {
	gh, _ := newGitHub(&Config{Address: "https://github.com/org/app.git", Token: "t"})
	ghe, _ := newGitHub(&Config{Address: "https://ghe.example.com/org/app", Token: "t"})
	gl, _ := newGitLab(&Config{Address: "https://gitlab.com/g/s/app", Token: "t"})
	gt, _ := newGitea(&Config{Address: "https://example.com/gitea/org/app", Token: "t"})
	bb, _ := newBitbucket(&Config{Address: "https://bitbucket.org/ws/app", Token: "t"})
	bbs, _ := newBitbucketServer(&Config{Address: "https://example.com/projects/PRJ/repos/app/browse", Token: "t"})
	for got, want := range map[string]string{
		gh.api:  "https://api.github.com/repos/org/app",
		ghe.api: "https://ghe.example.com/api/v3/repos/org/app",
		gl.api:  "https://gitlab.com/api/v4/projects/g%2Fs%2Fapp",
		gt.api:  "https://example.com/gitea/api/v1/repos/org/app",
		bb.api:  "https://api.bitbucket.org/2.0/repositories/ws/app",
		bbs.api: "https://example.com/rest/api/latest/projects/PRJ/repos/app",
	} {
		if got != want {
			t.Errorf("API %q, want %q", got, want)
		}
	}
}

func TestCommitOf(t *testing.T) {
	for rev, want := range map[string]string{
		"main@sha1:" + testSHA:             testSHA,
		"sha1:" + testSHA:                  testSHA,
		"main/" + testSHA:                  testSHA,
		strings.ToUpper(testSHA):           testSHA,
		"refs/tags/v1@sha1:" + testSHA:     testSHA,
		"v1.0.0@sha256:" + testSHA + "abc": "",
		"6.5.1":                            "",
	} {
		got, ok := CommitOf(&eventv1.Event{Metadata: map[string]string{"revision": rev}})
		if got != want && !(want == "" && !ok) {
			t.Errorf("CommitOf(%q) = %q, %v; want %q", rev, got, ok, want)
		}
	}
}
