package notifier

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	notificationv1 "weir.dev/api/notification/v1"
)

// TestSentrySendsAnEnvelopeToTheDSNsProject: the DSN's key goes in X-Sentry-Auth, the event
// in an envelope at the project's endpoint, with an event ID that a retry repeats.
func TestSentrySendsAnEnvelopeToTheDSNsProject(t *testing.T) {
	srv := newFakeServer(t, http.StatusOK, `{"id":"x"}`)
	dsn := strings.Replace(srv.URL, "http://", "http://"+testToken+"@", 1) + "/sentry/42"
	n, err := New(onLoopback(Config{Type: "sentry", Address: dsn}))
	if err != nil {
		t.Fatal(err)
	}
	for _, severity := range []string{"error", "error", "info"} {
		if err := n.Post(context.Background(), testEvent(severity)); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.received()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	var ids []string
	for i, r := range got {
		if r.Method != http.MethodPost || r.Path != "/sentry/api/42/envelope/" {
			t.Fatalf("request %s %s, want POST /sentry/api/42/envelope/", r.Method, r.Path)
		}
		if h := r.Header.Get("X-Sentry-Auth"); h != "Sentry sentry_version=7, sentry_client=weir-notification-controller, sentry_key="+testToken {
			t.Fatalf("X-Sentry-Auth %q", h)
		}
		if r.Header.Get("Content-Type") != "application/x-sentry-envelope" || r.User != "" || r.Header.Get("Authorization") != "" {
			t.Fatalf("Content-Type %q, basic auth %q", r.Header.Get("Content-Type"), r.User)
		}
		lines := bytes.Split(bytes.TrimSuffix(r.Body, []byte("\n")), []byte("\n"))
		if len(lines) != 3 {
			t.Fatalf("envelope of %d lines, want 3:\n%s", len(lines), r.Body)
		}
		var header struct {
			EventID string `json:"event_id"`
			SentAt  string `json:"sent_at"`
			DSN     string `json:"dsn"`
		}
		var item struct {
			Type   string `json:"type"`
			Length int    `json:"length"`
		}
		if json.Unmarshal(lines[0], &header) != nil || json.Unmarshal(lines[1], &item) != nil {
			t.Fatalf("envelope headers are not JSON:\n%s", r.Body)
		}
		if len(header.EventID) != 32 || header.SentAt == "" || header.DSN != "" || item.Type != "event" || item.Length != len(lines[2]) {
			t.Fatalf("envelope headers %+v %+v (payload %d bytes)", header, item, len(lines[2]))
		}
		s := sevs[[]string{"error", "error", "info"}[i]]
		jsonEqual(t, lines[2], s.r(`{"event_id":"`+header.EventID+`","timestamp":"2026-01-02T03:04:05Z","platform":"other","level":"{SEVERITY}",
		 "logger":"kustomize-controller","message":{"formatted":"Kustomization apps/podinfo: {TEXT}"},
		 "tags":{"kind":"Kustomization","namespace":"apps","name":"podinfo","reason":"{REASON}"},
		 "extra":{"env":"prod","summary":"prod cluster","commit_url":"https://github.com/org/app/commit/{SHA}"},
		 "fingerprint":["kustomization/apps/podinfo","{REASON}"],"release":"main@sha1:{SHA}"}`))
		ids = append(ids, header.EventID)
	}
	if ids[0] != ids[1] || ids[1] == ids[2] {
		t.Fatalf("event IDs %v: the same event must keep its ID, another must not", ids)
	}
	if bytes.Contains(got[0].Body, []byte(testToken)) {
		t.Fatalf("the envelope carries the DSN's key")
	}
}

// TestMatrixRetriesReuseTheTransactionID: Matrix de-duplicates by transaction ID, so the same
// event must map to the same one and another event to another.
func TestMatrixRetriesReuseTheTransactionID(t *testing.T) {
	srv := newFakeServer(t, http.StatusOK, `{"event_id":"$e"}`)
	n, err := New(onLoopback(Config{Type: "matrix", Address: srv.URL, Token: testToken, Channel: "!r:h"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, severity := range []string{"error", "error", "info"} {
		if err := n.Post(context.Background(), testEvent(severity)); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.received()
	if got[0].Path != got[1].Path || got[1].Path == got[2].Path {
		t.Fatalf("paths %s, %s, %s", got[0].Path, got[1].Path, got[2].Path)
	}
}

func TestLarkRefusalInA200IsAnError(t *testing.T) {
	srv := newFakeServer(t, http.StatusOK, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`)
	n, err := New(onLoopback(Config{Type: "lark", Address: srv.URL + "/open-apis/bot/v2/hook/" + testToken}))
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(context.Background(), testEvent("info"))
	if err == nil || !strings.Contains(err.Error(), "sign match fail") || Retryable(err) {
		t.Fatalf("got %v, want a permanent error with Lark's message", err)
	}
}

func TestAzureDevOpsAddresses(t *testing.T) {
	for addr, want := range map[string]string{
		"https://dev.azure.com/org/proj/_git/app":                  "https://dev.azure.com/org/proj/_apis/git/repositories/app",
		"https://dev.azure.com/org/My%20Project/_git/app.git":      "https://dev.azure.com/org/My%20Project/_apis/git/repositories/app",
		"https://org.visualstudio.com/proj/_git/app":               "https://org.visualstudio.com/proj/_apis/git/repositories/app",
		"https://ado.example.com/tfs/DefaultCollection/p/_git/app": "https://ado.example.com/tfs/DefaultCollection/p/_apis/git/repositories/app",
	} {
		a, err := newAzureDevOps(&Config{Address: addr, Token: "t"})
		if err != nil || a.api != want {
			t.Errorf("%s: API %q (%v), want %q", addr, a.api, err, want)
		}
	}
	for _, addr := range []string{"https://dev.azure.com/org/proj", "https://dev.azure.com/org/proj/_git/", "https://u:" + testToken + "@dev.azure.com/o/p/_git/r"} {
		if _, err := newAzureDevOps(&Config{Address: addr, Token: "t"}); err == nil || strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: got %v, want an error without the token", addr, err)
		}
	}
}

func TestAzureDevOpsSkipsEventsWithoutACommitAndMarksProgressingPending(t *testing.T) {
	srv := newFakeServer(t, http.StatusCreated, "{}")
	n, err := New(onLoopback(Config{Type: "azuredevops", Address: srv.URL + "/o/p/_git/r", Token: testToken}))
	if err != nil {
		t.Fatal(err)
	}
	e := testEvent("info")
	e.Metadata = map[string]string{"revision": "6.5.1"}
	if err := n.Post(context.Background(), e); err != nil || len(srv.received()) != 0 {
		t.Fatalf("an event without a commit: %v, %d requests", err, len(srv.received()))
	}
	e = testEvent("info")
	e.Reason = "Progressing"
	if err := n.Post(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if body := string(srv.received()[0].Body); !strings.Contains(body, `"state":"pending"`) {
		t.Fatalf("body %s, want state pending", body)
	}
}

// TestNewTypesNameWhatIsMissing: a Provider of a new type without what it needs fails with a
// message naming it, never quoting a secret.
func TestNewTypesNameWhatIsMissing(t *testing.T) {
	cases := []struct {
		c    Config
		want string
	}{
		{Config{Type: "pagerduty", Address: "https://events.pagerduty.com"}, "routing key"},
		{Config{Type: "opsgenie", Address: "https://api.opsgenie.com"}, "API key as the `token`"},
		{Config{Type: "datadog", Address: "https://api.datadoghq.com"}, "API key as the `token`"},
		{Config{Type: "webex", Address: "https://webexapis.com", Token: "t"}, "spec.channel, the room ID"},
		{Config{Type: "webex", Address: "https://webexapis.com", Channel: "r"}, "`token`"},
		{Config{Type: "matrix", Address: "https://matrix.org", Token: "t"}, "spec.channel, the room ID"},
		{Config{Type: "matrix", Address: "https://matrix.org", Channel: "!r:h"}, "`token`"},
		{Config{Type: "sentry", Address: "https://o1.ingest.sentry.io/42"}, "DSN"},
		{Config{Type: "sentry", Address: "https://" + testToken + "@o1.ingest.sentry.io/"}, "DSN"},
		{Config{Type: "sentry", Address: "https://" + testToken + "@o1.ingest.sentry.io/proj"}, "not a number"},
		{Config{Type: "githubdispatch", Address: "https://github.com/o/r"}, "token"},
		{Config{Type: "githubdispatch", Address: "https://github.com/o", Token: "t"}, "must name a repository"},
		{Config{Type: "azuredevops", Address: "https://dev.azure.com/o/p/_git/r"}, "personal access `token`"},
		{Config{Type: "githubpullrequestcomment", Address: "https://github.com/o/r"}, "token"},
		{Config{Type: "gitlabmergerequestcomment", Address: "https://gitlab.com/g/r"}, "token"},
		{Config{Type: "giteapullrequestcomment", Address: "https://gitea.com/o/r"}, "token"},
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

// TestNewTypesKeepSecretsOutOfErrors: a destination that fails and echoes everything it got
// (path, query, credential headers and body), or that cannot be reached, yields errors without
// the token, API key, routing key, DSN key or a webhook URL that embeds one.
func TestNewTypesKeepSecretsOutOfErrors(t *testing.T) {
	echo := newFakeServer(t, http.StatusInternalServerError, "")
	echo.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("failed for " + r.URL.String() + " auth=" + r.Header.Get("Authorization") + " dd=" + r.Header.Get("DD-API-KEY") +
			" sentry=" + r.Header.Get("X-Sentry-Auth")))
	})
	// echoBody answers with the request's body, as APIs that quote an invalid request do.
	echoBody := newFakeServer(t, http.StatusBadGateway, "")
	echoBody.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.Copy(w, r.Body)
	})
	closed := newFakeServer(t, 200, "")
	closedURL := closed.URL
	closed.Close()
	dsn := func(u string) string { return strings.Replace(u, "http://", "http://"+testToken+"@", 1) + "/42" }
	for _, base := range []string{echo.URL, echoBody.URL, closedURL} {
		for _, c := range []Config{
			{Type: "pagerduty", Address: base, Token: testToken},
			{Type: "pagerduty", Address: base, Channel: testToken},
			{Type: "opsgenie", Address: base, Token: testToken},
			{Type: "datadog", Address: base, Token: testToken},
			{Type: "grafana", Address: base, Token: testToken},
			{Type: "grafana", Address: base, BasicUser: "admin", BasicPassword: testToken},
			{Type: "sentry", Address: dsn(base)},
			{Type: "webex", Address: base, Token: testToken, Channel: "room"},
			{Type: "matrix", Address: base, Token: testToken, Channel: "!r:h"},
			{Type: "lark", Address: base + "/open-apis/bot/v2/hook/" + testToken},
			{Type: "githubdispatch", Address: base + "/o/r", Token: testToken},
			{Type: "azuredevops", Address: base + "/o/p/_git/r", Token: testToken},
			{Type: "githubpullrequestcomment", Address: base + "/o/r", Token: testToken},
			{Type: "gitlabmergerequestcomment", Address: base + "/g/r", Token: testToken},
			{Type: "giteapullrequestcomment", Address: base + "/o/r", Token: testToken},
		} {
			n, err := New(onLoopback(c))
			if err != nil {
				t.Fatal(err)
			}
			// An info event makes short bodies, which an error excerpt quotes whole.
			for _, severity := range []string{"info", "error"} {
				e := testEvent(severity)
				e.Metadata[ChangeRequestKey] = "7"
				err = n.Post(context.Background(), e)
				if err == nil {
					t.Fatalf("%s: want an error", c.Type)
				}
				for _, secret := range []string{testToken, base64.StdEncoding.EncodeToString([]byte(":" + testToken)),
					base64.StdEncoding.EncodeToString([]byte("admin:" + testToken))} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("%s: the error leaks the secret: %v", c.Type, err)
					}
				}
				if !Retryable(err) {
					t.Errorf("%s: %v should be retryable", c.Type, err)
				}
			}
		}
	}
}

// TestTypesMatchTheAPI: the notifier implements every type the CRD accepts, and no other.
func TestTypesMatchTheAPI(t *testing.T) {
	if got, want := strings.Join(Types, ","), strings.Join(notificationv1.ProviderTypes, ","); got != want {
		t.Fatalf("notifier.Types\n %s\nnotificationv1.ProviderTypes\n %s", got, want)
	}
	for _, typ := range Types {
		if _, err := New(Config{Type: typ, Address: "https://example.com/o/r"}); err != nil && strings.Contains(err.Error(), "unsupported type") {
			t.Errorf("%s: %v", typ, err)
		}
	}
}
