package notifier

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	testSHA   = "0123456789abcdef0123456789abcdef01234567"
	testToken = "s3cr3t-t0ken-value"
)

// captured is one request a fake destination received.
type captured struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
	User, Password         string
}

// fakeServer plays a destination: it records every request and answers with status and body.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []captured
	status   int
	answer   string
}

func newFakeServer(t *testing.T, status int, answer string) *fakeServer {
	f := &fakeServer{status: status, answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c := captured{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
		c.User, c.Password, _ = r.BasicAuth()
		f.mu.Lock()
		f.requests = append(f.requests, c)
		f.mu.Unlock()
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.answer)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) received() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.requests...)
}

func testEvent(severity string) *Event {
	reason, msg := "ReconciliationSucceeded", "Applied revision main@sha1:"+testSHA
	if severity == eventv1.EventSeverityError {
		reason, msg = "HealthCheckFailed", "Deployment apps/web: timeout <5m> & not ready"
	}
	return &Event{
		Event: eventv1.Event{
			InvolvedObject:      corev1.ObjectReference{APIVersion: "kustomize.weir.dev/v1", Kind: "Kustomization", Namespace: "apps", Name: "podinfo"},
			Severity:            severity,
			Timestamp:           metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
			Message:             msg,
			Reason:              reason,
			Action:              "Reconcile",
			Metadata:            map[string]string{"revision": "main@sha1:" + testSHA, "summary": "prod cluster", "env": "prod"},
			ReportingController: "kustomize-controller",
		},
		CommitURL: "https://github.com/org/app/commit/" + testSHA,
	}
}

// jsonEqual fails the test unless got and want hold the same JSON value.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body mismatch\n got: %s\nwant: %s", got, want)
	}
}

// expectation describes the one request a notifier must send for an event.
type expectation struct {
	path   string
	header map[string]string // exact values; "" means absent
	user   string
	pass   string
	body   string // exact JSON; empty means "no request at all"
}

// sev holds the parts of the expected bodies that depend on the severity.
type sev struct {
	severity, reason, text, colour, teamsColour, icon string
	ghState, glState, bbState                         string
}

var sevs = map[string]sev{
	"info": {severity: "info", reason: "ReconciliationSucceeded", text: "Applied revision main@sha1:" + testSHA,
		colour: "#2eb886", teamsColour: "good", icon: "✅", ghState: "success", glState: "success", bbState: "SUCCESSFUL"},
	"error": {severity: "error", reason: "HealthCheckFailed", text: "Deployment apps/web: timeout <5m> & not ready",
		colour: "#d0021b", teamsColour: "attention", icon: "❌", ghState: "failure", glState: "failed", bbState: "FAILED"},
}

// r replaces the placeholders of a body template.
func (s sev) r(tmpl string) string {
	esc := func(v string) string { b, _ := json.Marshal(v); return strings.Trim(string(b), `"`) }
	slackText := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s.text)
	return strings.NewReplacer(
		"{SEVERITY}", s.severity, "{REASON}", s.reason, "{TEXT}", esc(s.text), "{SLACKTEXT}", esc(slackText),
		"{COLOUR}", s.colour, "{TEAMSCOLOUR}", s.teamsColour, "{ICON}", s.icon, "{SHA}", testSHA,
		"{GHSTATE}", s.ghState, "{GLSTATE}", s.glState, "{BBSTATE}", s.bbState,
		"{HTMLTEXT}", esc(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s.text)),
		"{COLOURHEX}", strings.TrimPrefix(s.colour, "#"),
	).Replace(tmpl)
}

const wantSlackAttachment = `{"fallback":"Kustomization apps/podinfo: {TEXT}","color":"{COLOUR}","author_name":"Kustomization apps/podinfo",
 "title":"prod cluster","text":"{SLACKTEXT}","mrkdwn_in":["text","fields"],"fields":[
 {"title":"Reason","value":"{REASON}","short":true},{"title":"Severity","value":"{SEVERITY}","short":true},
 {"title":"Revision","value":"<https://github.com/org/app/commit/{SHA}|main@sha1:{SHA}>","short":false},
 {"title":"env","value":"prod","short":true}]}`

const wantMarkdownAttachment = `{"fallback":"Kustomization apps/podinfo: {TEXT}","color":"{COLOUR}","author_name":"Kustomization apps/podinfo",
 "title":"prod cluster","text":"{TEXT}","mrkdwn_in":["text","fields"],"fields":[
 {"title":"Reason","value":"{REASON}","short":true},{"title":"Severity","value":"{SEVERITY}","short":true},
 {"title":"Revision","value":"[main@sha1:{SHA}](https://github.com/org/app/commit/{SHA})","short":false},
 {"title":"env","value":"prod","short":true}]}`

func TestEveryTypeSendsItsRequestFormat(t *testing.T) {
	cases := []struct {
		name   string
		config func(url string) Config
		answer string
		want   func(s sev) expectation
	}{
		{name: "slack incoming webhook", config: func(u string) Config {
			return Config{Type: "slack", Address: u + "/services/T0/B0/" + testToken, Channel: "#ops", Sender: "weir"}
		}, answer: "ok", want: func(s sev) expectation {
			return expectation{path: "/services/T0/B0/" + testToken, header: map[string]string{"Content-Type": "application/json", "Authorization": ""},
				body: s.r(`{"channel":"#ops","username":"weir","attachments":[` + wantSlackAttachment + `]}`)}
		}},
		{name: "slack chat.postMessage", config: func(u string) Config {
			return Config{Type: "slack", Address: u + "/api/chat.postMessage", Token: testToken, Channel: "C024BE91L"}
		}, answer: `{"ok":true}`, want: func(s sev) expectation {
			return expectation{path: "/api/chat.postMessage",
				header: map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "application/json; charset=utf-8"},
				body:   s.r(`{"channel":"C024BE91L","text":"Kustomization apps/podinfo: {TEXT}","attachments":[` + wantSlackAttachment + `]}`)}
		}},
		{name: "discord", config: func(u string) Config {
			return Config{Type: "discord", Address: u + "/api/webhooks/1/" + testToken, Sender: "weir", Channel: "ignored"}
		}, want: func(s sev) expectation {
			return expectation{path: "/api/webhooks/1/" + testToken + "/slack", body: s.r(`{"username":"weir","attachments":[` + wantSlackAttachment + `]}`)}
		}},
		{name: "mattermost", config: func(u string) Config {
			return Config{Type: "mattermost", Address: u + "/hooks/" + testToken, Channel: "town-square", Sender: "weir"}
		}, want: func(s sev) expectation {
			return expectation{path: "/hooks/" + testToken, body: s.r(`{"channel":"town-square","username":"weir","attachments":[` + wantMarkdownAttachment + `]}`)}
		}},
		{name: "rocket", config: func(u string) Config {
			return Config{Type: "rocket", Address: u + "/hooks/x/" + testToken, Channel: "#ops", Sender: "weir"}
		}, want: func(s sev) expectation {
			return expectation{path: "/hooks/x/" + testToken, body: s.r(`{"channel":"#ops","alias":"weir","attachments":[` + wantMarkdownAttachment + `]}`)}
		}},
		{name: "msteams workflow", config: func(u string) Config {
			return Config{Type: "msteams", Address: u + "/workflows/" + testToken}
		}, want: func(s sev) expectation {
			return expectation{path: "/workflows/" + testToken, body: s.r(`{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
			 "content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.4","body":[
			  {"type":"TextBlock","text":"Kustomization apps/podinfo","weight":"bolder","size":"medium","wrap":true,"color":"{TEAMSCOLOUR}"},
			  {"type":"TextBlock","text":"prod cluster","wrap":true,"isSubtle":true},
			  {"type":"TextBlock","text":"{TEXT}","wrap":true},
			  {"type":"FactSet","facts":[{"title":"Reason","value":"{REASON}"},{"title":"Severity","value":"{SEVERITY}"},
			   {"title":"Revision","value":"[main@sha1:{SHA}](https://github.com/org/app/commit/{SHA})"},{"title":"env","value":"prod"}]}]}}]}`)}
		}},
		{name: "googlechat", config: func(u string) Config {
			return Config{Type: "googlechat", Address: u + "/v1/spaces/AAA/messages?key=k&token=" + testToken}
		}, want: func(s sev) expectation {
			return expectation{path: "/v1/spaces/AAA/messages", header: map[string]string{"Content-Type": "application/json; charset=UTF-8"},
				body: s.r(`{"text":"{ICON} *Kustomization apps/podinfo*\n_prod cluster_\n{SLACKTEXT}\n*Reason:* {REASON} · *Severity:* {SEVERITY}\n*Revision:* <https://github.com/org/app/commit/{SHA}|main@sha1:{SHA}>\n*env:* prod"}`)}
		}},
		{name: "telegram", config: func(u string) Config {
			return Config{Type: "telegram", Address: u, Token: testToken, Channel: "-100123"}
		}, answer: `{"ok":true,"result":{}}`, want: func(s sev) expectation {
			return expectation{path: "/bot" + testToken + "/sendMessage",
				body: s.r(`{"chat_id":"-100123","parse_mode":"HTML","disable_web_page_preview":true,
				 "text":"{ICON} <b>Kustomization apps/podinfo</b>\n<i>prod cluster</i>\n{HTMLTEXT}\n<b>Reason:</b> {REASON} · <b>Severity:</b> {SEVERITY}\n<b>Revision:</b> <a href=\"https://github.com/org/app/commit/{SHA}\">main@sha1:{SHA}</a>\n<b>env:</b> prod"}`)}
		}},
		{name: "alertmanager", config: func(u string) Config {
			return Config{Type: "alertmanager", Address: u + "/api/v2/alerts", BasicUser: "am", BasicPassword: testToken}
		}, want: func(s sev) expectation {
			return expectation{path: "/api/v2/alerts", user: "am", pass: testToken, body: s.r(`[{"labels":{"alertname":"WeirKustomization{REASON}",
			 "severity":"{SEVERITY}","reason":"{REASON}","kind":"Kustomization","name":"podinfo","namespace":"apps","env":"prod",
			 "revision":"main@sha1:{SHA}"},"annotations":{"message":"{TEXT}","summary":"prod cluster","commit_url":"https://github.com/org/app/commit/{SHA}"},
			 "startsAt":"2026-01-02T03:04:05Z","endsAt":"2026-01-02T04:04:05Z","generatorURL":"https://github.com/org/app/commit/{SHA}"}]`)}
		}},
		{name: "github", config: func(u string) Config {
			return Config{Type: "github", Address: u + "/org/app.git", Token: testToken}
		}, want: func(s sev) expectation {
			return expectation{path: "/api/v3/repos/org/app/statuses/" + testSHA,
				header: map[string]string{"Authorization": "Bearer " + testToken, "Accept": "application/vnd.github+json"},
				body:   s.r(`{"state":"{GHSTATE}","context":"kustomization/apps/podinfo","description":"{TEXT}"}`)}
		}},
		{name: "gitlab", config: func(u string) Config {
			return Config{Type: "gitlab", Address: u + "/group/sub/app", Token: testToken}
		}, want: func(s sev) expectation {
			return expectation{path: "/api/v4/projects/group%2Fsub%2Fapp/statuses/" + testSHA,
				header: map[string]string{"Private-Token": testToken},
				body:   s.r(`{"state":"{GLSTATE}","name":"kustomization/apps/podinfo","description":"{TEXT}"}`)}
		}},
		{name: "gitea", config: func(u string) Config {
			return Config{Type: "gitea", Address: u + "/org/app", Token: testToken}
		}, want: func(s sev) expectation {
			return expectation{path: "/api/v1/repos/org/app/statuses/" + testSHA,
				header: map[string]string{"Authorization": "token " + testToken},
				body:   s.r(`{"state":"{GHSTATE}","context":"kustomization/apps/podinfo","description":"{TEXT}"}`)}
		}},
		{name: "bitbucket", config: func(u string) Config {
			return Config{Type: "bitbucket", Address: u + "/ws/app.git", Token: "jdoe:" + testToken}
		}, want: func(s sev) expectation {
			return expectation{path: "/2.0/repositories/ws/app/commit/" + testSHA + "/statuses/build", user: "jdoe", pass: testToken,
				body: s.r(`{"key":"` + bitbucketKey("kustomization/apps/podinfo") + `","name":"kustomization/apps/podinfo","state":"{BBSTATE}",
				 "url":"{SERVER}/ws/app","description":"{TEXT}"}`)}
		}},
		{name: "bitbucketserver", config: func(u string) Config {
			return Config{Type: "bitbucketserver", Address: u + "/bitbucket/scm/PRJ/app.git", Token: testToken}
		}, want: func(s sev) expectation {
			return expectation{path: "/bitbucket/rest/api/latest/projects/PRJ/repos/app/commits/" + testSHA + "/builds",
				header: map[string]string{"Authorization": "Bearer " + testToken},
				body: s.r(`{"key":"kustomization/apps/podinfo","name":"kustomization/apps/podinfo","state":"{BBSTATE}",
				 "url":"{SERVER}/bitbucket/scm/PRJ/app","description":"{TEXT}"}`)}
		}},
		{name: "generic", config: func(u string) Config {
			return Config{Type: "generic", Address: u + "/hook", Headers: map[string]string{"X-Api-Key": testToken}}
		}, want: func(s sev) expectation {
			return expectation{path: "/hook", header: map[string]string{"X-Api-Key": testToken, "X-Signature": ""}, body: s.r(genericBody)}
		}},
	}
	for _, tc := range cases {
		for _, severity := range []string{"info", "error"} {
			t.Run(tc.name+"/"+severity, func(t *testing.T) {
				answer := tc.answer
				srv := newFakeServer(t, http.StatusOK, answer)
				n, err := New(onLoopback(tc.config(srv.URL)))
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if err := n.Post(context.Background(), testEvent(severity)); err != nil {
					t.Fatalf("Post: %v", err)
				}
				want := tc.want(sevs[severity])
				got := srv.received()
				if len(got) != 1 {
					t.Fatalf("the server received %d requests, want 1", len(got))
				}
				r := got[0]
				if r.Method != http.MethodPost || r.Path != want.path {
					t.Errorf("request %s %s, want POST %s", r.Method, r.Path, want.path)
				}
				for k, v := range want.header {
					if g := r.Header.Get(k); g != v {
						t.Errorf("header %s = %q, want %q", k, g, v)
					}
				}
				if r.User != want.user || r.Password != want.pass {
					t.Errorf("basic auth %q/%q, want %q/%q", r.User, r.Password, want.user, want.pass)
				}
				if ua := r.Header.Get("User-Agent"); ua != userAgent {
					t.Errorf("User-Agent %q", ua)
				}
				jsonEqual(t, r.Body, strings.ReplaceAll(want.body, "{SERVER}", srv.URL))
			})
		}
	}
}

const genericBody = `{"involvedObject":{"kind":"Kustomization","namespace":"apps","name":"podinfo","apiVersion":"kustomize.weir.dev/v1"},
 "severity":"{SEVERITY}","timestamp":"2026-01-02T03:04:05Z","message":"{TEXT}","reason":"{REASON}","action":"Reconcile",
 "metadata":{"revision":"main@sha1:{SHA}","summary":"prod cluster","env":"prod"},"reportingController":"kustomize-controller"}`

func bitbucketKey(k string) string { return sha256Hex(k)[:40] }
