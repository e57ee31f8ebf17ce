package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/harness"
)

const newTypesToken = "tok-new-provider-types-never-shown-4242"

// TestNewProviderTypesKeepSecretsOutOfLogsEventsAndStatus routes a failing Kustomization's
// event to a Provider of each incident, chat, dispatch, Azure DevOps and comment type, with
// the credential in its Secret, at a destination that answers 500 quoting everything it got.
// Each Provider is Ready and its request reaches the path its API uses with the credential;
// the delivery failure is logged, and neither the logs, the Kubernetes Events nor any status
// shows the credential.
func TestNewProviderTypesKeepSecretsOutOfLogsEventsAndStatus(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	echo := harness.NewDestination(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused "+r.URL.String()+" auth="+r.Header.Get("Authorization")+" key="+r.Header.Get("DD-API-KEY")+
			" sentry="+r.Header.Get("X-Sentry-Auth"), http.StatusInternalServerError)
	})
	url := eventsServer(t, m, nil)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+newTypesToken))
	dsn := strings.Replace(echo.URL, "http://", "http://"+newTypesToken+"@", 1) + "/42"
	cases := []struct {
		typ, address, channel string
		secret                map[string]string
		path, header, value   string
	}{
		{typ: "pagerduty", address: echo.URL, secret: map[string]string{"token": newTypesToken}, path: "/v2/enqueue"},
		{typ: "opsgenie", address: echo.URL, secret: map[string]string{"token": newTypesToken}, path: "/v2/alerts", header: "Authorization", value: "GenieKey " + newTypesToken},
		{typ: "datadog", address: echo.URL, secret: map[string]string{"token": newTypesToken}, path: "/api/v1/events", header: "DD-API-KEY", value: newTypesToken},
		{typ: "grafana", address: echo.URL, secret: map[string]string{"token": newTypesToken}, path: "/api/annotations", header: "Authorization", value: "Bearer " + newTypesToken},
		{typ: "sentry", secret: map[string]string{"address": dsn}, path: "/api/42/envelope/", header: "X-Sentry-Auth",
			value: "Sentry sentry_version=7, sentry_client=weir-notification-controller, sentry_key=" + newTypesToken},
		{typ: "webex", address: echo.URL, channel: "room", secret: map[string]string{"token": newTypesToken}, path: "/v1/messages", header: "Authorization", value: "Bearer " + newTypesToken},
		{typ: "matrix", address: echo.URL, channel: "!room:example.org", secret: map[string]string{"token": newTypesToken},
			path: "/_matrix/client/v3/rooms/%21room:example.org/send/m.room.message/", header: "Authorization", value: "Bearer " + newTypesToken},
		{typ: "lark", secret: map[string]string{"address": echo.URL + "/open-apis/bot/v2/hook/" + newTypesToken}, path: "/open-apis/bot/v2/hook/" + newTypesToken},
		{typ: "githubdispatch", address: echo.URL + "/org/app", secret: map[string]string{"token": newTypesToken},
			path: "/api/v3/repos/org/app/dispatches", header: "Authorization", value: "Bearer " + newTypesToken},
		{typ: "azuredevops", address: echo.URL + "/org/proj/_git/app", secret: map[string]string{"token": newTypesToken},
			path: "/org/proj/_apis/git/repositories/app/commits/" + sha + "/statuses", header: "Authorization", value: basic},
		{typ: "azureeventhub", address: echo.URL, secret: map[string]string{"token": "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" +
			newTypesToken + ";EntityPath=events"}, path: "/events/messages"},
		{typ: "githubpullrequestcomment", address: echo.URL + "/org/app", secret: map[string]string{"token": newTypesToken},
			path: "/api/v3/repos/org/app/issues/7/comments", header: "Authorization", value: "Bearer " + newTypesToken},
	}
	for _, tc := range cases {
		m.Secret(t, ns, tc.typ, tc.secret)
		p := &notificationv1.Provider{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tc.typ},
			Spec: notificationv1.ProviderSpec{Type: tc.typ, Address: tc.address, Channel: tc.channel,
				SecretRef: &meta.LocalObjectReference{Name: tc.typ}},
		}
		m.Create(t, p)
		a := &notificationv1.Alert{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tc.typ},
			Spec: notificationv1.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: tc.typ},
				EventSources: []src{{Kind: "Kustomization", Name: "*"}}},
		}
		m.Create(t, a)
		m.WaitReady(t, p, "True", "")
		m.WaitReady(t, a, "True", "")
	}
	postEvent(t, url, newEvent("Kustomization", ns, "apps", "error", "HealthCheckFailed", "Deployment/default/web not ready",
		map[string]string{"kustomize.weir.dev/revision": "main@sha1:" + sha, "change_request": "7"}))

	harness.Eventually(t, 60*time.Second, func() error {
		if n := strings.Count(m.Logs.String(), "notification not delivered"); n < len(cases) {
			return errf("%d of %d deliveries have failed so far", n, len(cases))
		}
		return nil
	})
	reqs := echo.Requests()
	for _, tc := range cases {
		found := false
		for _, r := range reqs {
			if strings.HasPrefix(r.Path, tc.path) && (tc.header == "" || r.Header.Get(tc.header) == tc.value) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: no request on %s with its credential", tc.typ, tc.path)
		}
	}
	logs := m.Logs.String()
	for _, secret := range []string{newTypesToken, strings.TrimPrefix(basic, "Basic ")} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs show a secret")
		}
		if events := m.EventsOf(t, ns); strings.Contains(events, secret) {
			t.Errorf("an Event shows a secret:\n%s", events)
		}
		for _, obj := range []client.ObjectList{&notificationv1.ProviderList{}, &notificationv1.AlertList{}} {
			if err := m.Env.Client.List(t.Context(), obj, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			if b, _ := json.Marshal(obj); strings.Contains(string(b), secret) {
				t.Errorf("a %T shows a secret", obj)
			}
		}
	}
}
