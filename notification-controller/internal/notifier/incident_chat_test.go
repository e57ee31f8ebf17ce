package notifier

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// wantMarkdown is markdownText of testEvent: Webex, Lark and Datadog show it.
const wantMarkdown = `{ICON} **Kustomization apps/podinfo**\n_prod cluster_\n{TEXT}\n**Reason:** {REASON} · **Severity:** {SEVERITY}\n` +
	`**Revision:** [main@sha1:{SHA}](https://github.com/org/app/commit/{SHA})\n**env:** prod`

// pick returns info or error by the severity of s.
func (s sev) pick(info, error string) string {
	if s.severity == "error" {
		return error
	}
	return info
}

// TestIncidentAndChatTypesSendTheirRequestFormat: each of the incident, observability, chat,
// dispatch and Azure DevOps types sends, for an info and an error event, exactly the request
// its service's API documents, with its credential where the API expects it.
func TestIncidentAndChatTypesSendTheirRequestFormat(t *testing.T) {
	cases := []struct {
		name   string
		config func(url string) Config
		answer string
		want   func(s sev) expectation
		method string // POST when empty
		query  string
	}{
		{name: "pagerduty", config: func(u string) Config {
			return Config{Type: "pagerduty", Address: u, Token: testToken}
		}, answer: `{"status":"success","message":"Event processed","dedup_key":"kustomization/apps/podinfo"}`, want: func(s sev) expectation {
			return expectation{path: "/v2/enqueue", header: map[string]string{"Authorization": ""}, body: s.pick(
				`{"routing_key":"`+testToken+`","dedup_key":"kustomization/apps/podinfo","event_action":"resolve"}`,
				s.r(`{"routing_key":"`+testToken+`","dedup_key":"kustomization/apps/podinfo","event_action":"trigger","client":"Weir",
				 "payload":{"summary":"Kustomization apps/podinfo: {TEXT}","source":"kustomize-controller","severity":"error",
				  "timestamp":"2026-01-02T03:04:05Z","component":"Kustomization/podinfo","group":"apps","class":"{REASON}",
				  "custom_details":{"message":"{TEXT}","reason":"{REASON}","summary":"prod cluster","revision":"main@sha1:{SHA}","env":"prod"}},
				 "links":[{"href":"https://github.com/org/app/commit/{SHA}","text":"Commit main@sha1:{SHA}"}]}`))}
		}},
		{name: "pagerduty routing key in spec.channel", config: func(u string) Config {
			return Config{Type: "pagerduty", Address: u + "/v2/enqueue", Channel: "R0UT1NG-KEY-IN-CHANNEL"}
		}, want: func(s sev) expectation {
			return expectation{path: "/v2/enqueue", body: s.pick(
				`{"routing_key":"R0UT1NG-KEY-IN-CHANNEL","dedup_key":"kustomization/apps/podinfo","event_action":"resolve"}`,
				s.r(`{"routing_key":"R0UT1NG-KEY-IN-CHANNEL","dedup_key":"kustomization/apps/podinfo","event_action":"trigger","client":"Weir",
				 "payload":{"summary":"Kustomization apps/podinfo: {TEXT}","source":"kustomize-controller","severity":"error",
				  "timestamp":"2026-01-02T03:04:05Z","component":"Kustomization/podinfo","group":"apps","class":"{REASON}",
				  "custom_details":{"message":"{TEXT}","reason":"{REASON}","summary":"prod cluster","revision":"main@sha1:{SHA}","env":"prod"}},
				 "links":[{"href":"https://github.com/org/app/commit/{SHA}","text":"Commit main@sha1:{SHA}"}]}`))}
		}},
		{name: "opsgenie", config: func(u string) Config {
			return Config{Type: "opsgenie", Address: u, Token: testToken}
		}, answer: `{"result":"Request will be processed","took":0.1,"requestId":"x"}`, want: func(s sev) expectation {
			return expectation{path: "/v2/alerts", header: map[string]string{"Authorization": "GenieKey " + testToken},
				body: s.r(`{"message":"Kustomization apps/podinfo: {TEXT}","alias":"kustomization/apps/podinfo",
				 "description":"prod cluster\n\n{TEXT}","source":"weir","tags":["weir","kustomization","apps","podinfo","{SEVERITY}"],
				 "details":{"reason":"{REASON}","severity":"{SEVERITY}","revision":"main@sha1:{SHA}","commit_url":"https://github.com/org/app/commit/{SHA}","env":"prod"},
				 "entity":"Kustomization apps/podinfo","priority":"` + s.pick("P5", "P3") + `"}`)}
		}},
		{name: "datadog", config: func(u string) Config {
			return Config{Type: "datadog", Address: u, Token: testToken}
		}, answer: `{"status":"ok"}`, want: func(s sev) expectation {
			return expectation{path: "/api/v1/events", header: map[string]string{"DD-API-KEY": testToken, "Authorization": ""},
				body: s.r(`{"title":"Kustomization apps/podinfo: {REASON}","text":"%%% \n` + wantMarkdown + `\n %%%","alert_type":"{SEVERITY}",
				 "date_happened":1767323045,"aggregation_key":"kustomization/apps/podinfo","source_type_name":"weir",
				 "tags":["source:weir","kind:kustomization","kube_namespace:apps","name:podinfo","reason:{REASON}","revision:main@sha1:{SHA}","env:prod"]}`)}
		}},
		{name: "grafana token", config: func(u string) Config {
			return Config{Type: "grafana", Address: u + "/grafana/", Token: testToken}
		}, answer: `{"id":1,"message":"Annotation added"}`, want: func(s sev) expectation {
			return expectation{path: "/grafana/api/annotations", header: map[string]string{"Authorization": "Bearer " + testToken},
				body: s.r(`{"time":1767323045000,"tags":["weir","kind:Kustomization","namespace:apps","name:podinfo","severity:{SEVERITY}",
				 "reason:{REASON}","revision:main@sha1:{SHA}","env:prod"],
				 "text":"Kustomization apps/podinfo: {HTMLTEXT} <a href=\"https://github.com/org/app/commit/{SHA}\">main@sha1:{SHA}</a>"}`)}
		}},
		{name: "grafana basic auth", config: func(u string) Config {
			return Config{Type: "grafana", Address: u + "/api/annotations", BasicUser: "admin", BasicPassword: testToken}
		}, want: func(s sev) expectation {
			return expectation{path: "/api/annotations", user: "admin", pass: testToken,
				body: s.r(`{"time":1767323045000,"tags":["weir","kind:Kustomization","namespace:apps","name:podinfo","severity:{SEVERITY}",
				 "reason:{REASON}","revision:main@sha1:{SHA}","env:prod"],
				 "text":"Kustomization apps/podinfo: {HTMLTEXT} <a href=\"https://github.com/org/app/commit/{SHA}\">main@sha1:{SHA}</a>"}`)}
		}},
		{name: "githubdispatch", config: func(u string) Config {
			return Config{Type: "githubdispatch", Address: u + "/org/app", Token: testToken}
		}, want: func(s sev) expectation {
			return expectation{path: "/api/v3/repos/org/app/dispatches",
				header: map[string]string{"Authorization": "Bearer " + testToken, "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
				body:   s.r(`{"event_type":"Kustomization/podinfo.apps","client_payload":` + genericBody + `}`)}
		}},
		{name: "webex", config: func(u string) Config {
			return Config{Type: "webex", Address: u, Token: testToken, Channel: "Y2lzY29zcGFyazovL3Vz"}
		}, answer: `{"id":"m1"}`, want: func(s sev) expectation {
			return expectation{path: "/v1/messages", header: map[string]string{"Authorization": "Bearer " + testToken},
				body: s.r(`{"roomId":"Y2lzY29zcGFyazovL3Vz","markdown":"` + wantMarkdown + `"}`)}
		}},
		{name: "matrix", method: http.MethodPut, config: func(u string) Config {
			return Config{Type: "matrix", Address: u + "/", Token: testToken, Channel: "!room:example.org"}
		}, answer: `{"event_id":"$e"}`, want: func(s sev) expectation {
			return expectation{path: "/_matrix/client/v3/rooms/%21room:example.org/send/m.room.message/weir-*",
				header: map[string]string{"Authorization": "Bearer " + testToken},
				body: s.r(`{"msgtype":"m.text","format":"org.matrix.custom.html",
				 "body":"Kustomization apps/podinfo\nprod cluster\n{TEXT}\nReason: {REASON} · Severity: {SEVERITY}\nRevision: main@sha1:{SHA}\nCommit: https://github.com/org/app/commit/{SHA}\nenv: prod",
				 "formatted_body":"{ICON} <b>Kustomization apps/podinfo</b><br><i>prod cluster</i><br>{HTMLTEXT}<br><b>Reason:</b> {REASON} · <b>Severity:</b> {SEVERITY}<br><b>Revision:</b> <a href=\"https://github.com/org/app/commit/{SHA}\">main@sha1:{SHA}</a><br><b>env:</b> prod"}`)}
		}},
		{name: "lark", config: func(u string) Config {
			return Config{Type: "lark", Address: u + "/open-apis/bot/v2/hook/" + testToken}
		}, answer: `{"code":0,"msg":"success","data":{}}`, want: func(s sev) expectation {
			return expectation{path: "/open-apis/bot/v2/hook/" + testToken, body: s.r(`{"msg_type":"interactive","card":{"config":{"wide_screen_mode":true},
			 "header":{"title":{"tag":"plain_text","content":"{ICON} Kustomization apps/podinfo"},"template":"` + s.pick("green", "red") + `"},
			 "elements":[{"tag":"div","text":{"tag":"lark_md","content":"` + wantMarkdown + `"}}]}}`)}
		}},
		{name: "azuredevops", query: "api-version=7.1", config: func(u string) Config {
			return Config{Type: "azuredevops", Address: u + "/org/proj/_git/app", Token: testToken}
		}, answer: `{"id":1}`, want: func(s sev) expectation {
			return expectation{path: "/org/proj/_apis/git/repositories/app/commits/" + testSHA + "/statuses", pass: testToken,
				header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+testToken))},
				body:   s.r(`{"state":"` + s.pick("succeeded", "failed") + `","description":"{TEXT}","context":{"genre":"weir","name":"kustomization/apps/podinfo"}}`)}
		}},
	}
	for _, tc := range cases {
		for _, severity := range []string{"info", "error"} {
			t.Run(tc.name+"/"+severity, func(t *testing.T) {
				srv := newFakeServer(t, http.StatusOK, tc.answer)
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
				method := tc.method
				if method == "" {
					method = http.MethodPost
				}
				pathOK := r.Path == want.path
				if prefix, ok := strings.CutSuffix(want.path, "*"); ok {
					pathOK = strings.HasPrefix(r.Path, prefix) && len(r.Path) > len(prefix)
				}
				if r.Method != method || !pathOK || r.RawQuery != tc.query {
					t.Errorf("request %s %s?%s, want %s %s?%s", r.Method, r.Path, r.RawQuery, method, want.path, tc.query)
				}
				for k, v := range want.header {
					if g := r.Header.Get(k); g != v {
						t.Errorf("header %s = %q, want %q", k, g, v)
					}
				}
				if r.User != want.user || r.Password != want.pass {
					t.Errorf("basic auth %q/%q, want %q/%q", r.User, r.Password, want.user, want.pass)
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				jsonEqual(t, r.Body, want.body)
			})
		}
	}
}
