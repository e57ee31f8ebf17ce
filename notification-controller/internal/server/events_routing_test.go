package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
	"github.com/fluxcd/pkg/runtime/events"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/harness"
	"weir.dev/notification-controller/internal/server"
)

// TestEventsFromTheRuntimeRecorderReachSlack posts with the recorder the other controllers use,
// about a real GitRepository, and checks the exact Slack message: the object, severity, reason,
// message, and the revision linked to its commit.
func TestEventsFromTheRuntimeRecorderReachSlack(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	slack := harness.NewDestination(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	url := eventsServer(t, m, nil)

	repo := gitRepository(ns, "podinfo", "https://github.com/stefanprodan/podinfo.git", nil)
	m.Create(t, repo)
	m.Secret(t, ns, "slack-url", map[string]string{"address": slack.URL + "/services/T000/B000/XXXXXXXXXXXXXXXX"})
	p := &notificationv1.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "slack"},
		Spec:       notificationv1.ProviderSpec{Type: "slack", Channel: "#deploys", Username: "weir", SecretRef: &meta.LocalObjectReference{Name: "slack-url"}},
	}
	m.Create(t, p)
	a := &notificationv1.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "all"},
		Spec: notificationv1.AlertSpec{
			ProviderRef:   meta.LocalObjectReference{Name: "slack"},
			EventSources:  []src{{Kind: "GitRepository", Name: "*"}},
			Summary:       "staging",
			EventMetadata: map[string]string{"cluster": "eu-1", "revision": "the event's wins"},
		},
	}
	m.Create(t, a)
	m.WaitReady(t, a, "True", "")

	rec, err := events.NewRecorder(m.Log, url, "source-controller", events.WithScheme(env.Scheme))
	if err != nil {
		t.Fatal(err)
	}
	rec.AnnotatedEventf(repo, nil, map[string]string{
		"source.weir.dev/revision": "main@sha1:" + sha,
		"source.weir.dev/digest":   "sha256:0000",
		"kustomize.weir.dev/other": "dropped",
	}, "Normal", "NewArtifact", "Reconcile", "stored artifact for commit '%s'", "Add feature")
	rec.AnnotatedEventf(repo, nil, nil, "Warning", "GitOperationFailed", "Reconcile", "failed to checkout: <auth> & more")

	reqs := slack.WaitFor(t, 2, 10*time.Second)
	sort.Slice(reqs, func(i, j int) bool { return strings.Contains(string(reqs[i].Body), "NewArtifact") })
	commit := "https://github.com/stefanprodan/podinfo/commit/" + sha
	harness.JSONEqual(t, reqs[0].Body, `{"channel":"#deploys","username":"weir","attachments":[{
	 "fallback":"GitRepository `+ns+`/podinfo: stored artifact for commit 'Add feature'","color":"#2eb886",
	 "author_name":"GitRepository `+ns+`/podinfo","title":"staging","text":"stored artifact for commit 'Add feature'",
	 "mrkdwn_in":["text","fields"],"fields":[{"title":"Reason","value":"NewArtifact","short":true},{"title":"Severity","value":"info","short":true},
	 {"title":"Revision","value":"<`+commit+`|main@sha1:`+sha+`>","short":false},{"title":"cluster","value":"eu-1","short":true}]}]}`)
	harness.JSONEqual(t, reqs[1].Body, `{"channel":"#deploys","username":"weir","attachments":[{
	 "fallback":"GitRepository `+ns+`/podinfo: failed to checkout: <auth> & more","color":"#d0021b",
	 "author_name":"GitRepository `+ns+`/podinfo","title":"staging","text":"failed to checkout: &lt;auth&gt; &amp; more",
	 "mrkdwn_in":["text","fields"],"fields":[{"title":"Reason","value":"GitOperationFailed","short":true},{"title":"Severity","value":"error","short":true},
	 {"title":"Revision","value":"the event's wins","short":false},{"title":"cluster","value":"eu-1","short":true}]}]}`)
	for _, r := range reqs {
		if r.Path != "/services/T000/B000/XXXXXXXXXXXXXXXX" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request to %s with %s", r.Path, r.Header.Get("Content-Type"))
		}
	}
}

// TestAlertFiltering routes a set of events through Alerts that each filter one way, and checks
// which events each Provider's webhook received.
func TestAlertFiltering(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	url := eventsServer(t, m, nil)
	m.Create(t, gitRepository(ns, "web-frontend", "https://example.com/web.git", map[string]string{"team": "web"}))
	m.Create(t, gitRepository(ns, "api", "https://example.com/api.git", map[string]string{"team": "api"}))

	filters := map[string]func(*notificationv1.AlertSpec){
		"by-kind": func(s *notificationv1.AlertSpec) { s.EventSources = []src{{Kind: "Kustomization", Name: "*"}} },
		"by-name": func(s *notificationv1.AlertSpec) { s.EventSources = []src{{Kind: "GitRepository", Name: "api"}} },
		"by-wildcard": func(s *notificationv1.AlertSpec) {
			s.EventSources = []src{{Kind: "GitRepository", Name: "*", MatchLabels: map[string]string{"team": "web"}}}
		},
		"errors-only": func(s *notificationv1.AlertSpec) { s.EventSeverity = "error" },
		"inclusion":   func(s *notificationv1.AlertSpec) { s.InclusionList = []string{`^stored artifact`} },
		"exclusion": func(s *notificationv1.AlertSpec) {
			s.ExclusionList = []string{`no changes`}
		},
		"suspended": func(s *notificationv1.AlertSpec) { s.Suspend = true },
	}
	dests := map[string]*harness.Destination{}
	for name, edit := range filters {
		dests[name] = harness.NewDestination(t, nil)
		alertFor(t, m, ns, name, dests[name].URL+"/"+name, edit)
	}
	sent := []eventv1.Event{
		newEvent("GitRepository", ns, "web-frontend", "info", "NewArtifact", "stored artifact for web", nil),
		newEvent("GitRepository", ns, "api", "error", "GitOperationFailed", "clone failed", nil),
		newEvent("GitRepository", ns, "api", "info", "Succeeded", "no changes since last reconcilation", nil),
		newEvent("Kustomization", ns, "apps", "info", "ReconciliationSucceeded", "applied", nil),
	}
	for _, e := range sent {
		if code := postEvent(t, url, e); code != http.StatusAccepted {
			t.Fatalf("POST answered %d", code)
		}
	}
	want := map[string][]string{
		"by-kind":     {"applied"},
		"by-name":     {"clone failed", "no changes since last reconcilation"},
		"by-wildcard": {"stored artifact for web"},
		"errors-only": {"clone failed"},
		"inclusion":   {"stored artifact for web"},
		"exclusion":   {"clone failed", "stored artifact for web"},
		"suspended":   nil,
	}
	for name, msgs := range want {
		d := dests[name]
		if len(msgs) > 0 {
			d.WaitFor(t, len(msgs), 10*time.Second)
		}
		d.Quiet(t, len(msgs), 100*time.Millisecond)
		var got []string
		for _, e := range receivedEvents(t, d.Requests()) {
			got = append(got, e.Message)
		}
		sort.Strings(got)
		if strings.Join(got, "|") != strings.Join(msgs, "|") {
			t.Errorf("alert %s delivered %q, want %q", name, got, msgs)
		}
	}
}

func TestDuplicateEventsAreSentOnce(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	hook := harness.NewDestination(t, nil)
	url := eventsServer(t, m, func(o *server.EventServerOptions) { o.DedupWindow = time.Minute })
	alertFor(t, m, ns, "dedup", hook.URL, nil)

	e := newEvent("GitRepository", ns, "app", "info", "NewArtifact", "stored", map[string]string{"revision": "main@sha1:" + sha})
	if code := postEvent(t, url, e); code != http.StatusAccepted {
		t.Fatalf("first POST: %d", code)
	}
	// 429 is the runtime recorder's signal not to retry a duplicate.
	for range 3 {
		if code := postEvent(t, url, e); code != http.StatusTooManyRequests {
			t.Fatalf("duplicate POST: %d, want 429", code)
		}
	}
	next := e
	next.Metadata = map[string]string{"revision": "main@sha1:" + strings.Repeat("1", 40)}
	if code := postEvent(t, url, next); code != http.StatusAccepted {
		t.Fatalf("a new revision: %d", code)
	}
	hook.WaitFor(t, 2, 10*time.Second)
	hook.Quiet(t, 2, 200*time.Millisecond)
}

func TestAFailingProviderIsRetried(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	calls := 0
	hook := harness.NewDestination(t, func(w http.ResponseWriter, r *http.Request) {
		calls++ // requests are recorded and answered one at a time per lane
		if calls == 1 {
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	})
	url := eventsServer(t, m, nil)
	alertFor(t, m, ns, "retry", hook.URL, nil)
	postEvent(t, url, newEvent("GitRepository", ns, "app", "info", "NewArtifact", "stored", nil))
	reqs := hook.WaitFor(t, 2, 10*time.Second)
	if string(reqs[0].Body) != string(reqs[1].Body) {
		t.Fatalf("the retry sent another body:\n%s\n%s", reqs[0].Body, reqs[1].Body)
	}
	hook.Quiet(t, 2, 200*time.Millisecond)
}

func TestAHangingProviderDoesNotDelayAnother(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	release := make(chan struct{})
	hanging := harness.NewDestination(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	quick := harness.NewDestination(t, nil)
	url := eventsServer(t, m, nil)
	alertFor(t, m, ns, "hanging", hanging.URL, nil)
	alertFor(t, m, ns, "quick", quick.URL, nil)

	for i := range 3 {
		postEvent(t, url, newEvent("GitRepository", ns, "app", "info", "NewArtifact", "stored "+string(rune('a'+i)), nil))
	}
	hanging.WaitFor(t, 1, 10*time.Second)
	quick.WaitFor(t, 3, 5*time.Second)
	if len(hanging.Requests()) != 1 {
		t.Fatalf("the hanging webhook got %d requests while the first hangs", len(hanging.Requests()))
	}
}

func TestMalformedEventsAreRejected(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	hook := harness.NewDestination(t, nil)
	url := eventsServer(t, m, nil)
	alertFor(t, m, ns, "any", hook.URL, nil)

	valid, _ := json.Marshal(newEvent("GitRepository", ns, "app", "info", "R", "m", nil))
	noName := newEvent("GitRepository", ns, "", "info", "R", "m", nil)
	trace := newEvent("GitRepository", ns, "app", "trace", "R", "m", nil)
	b1, _ := json.Marshal(noName)
	b2, _ := json.Marshal(trace)
	huge := append([]byte(`{"message":"`), make([]byte, server.MaxEventBytes)...)
	cases := []struct {
		name   string
		body   []byte
		header http.Header
		status int
		want   string
	}{
		{"not JSON", []byte("hello"), nil, 400, "not an event in JSON"},
		{"truncated", valid[:len(valid)-3], nil, 400, "not an event in JSON"},
		{"two values", append(append([]byte{}, valid...), valid...), nil, 400, "more than one JSON value"},
		{"no name", b1, nil, 400, "involvedObject.name"},
		{"trace severity", b2, nil, 400, `severity "trace"`},
		{"too large", huge, nil, 413, "larger than"},
		{"gzip", valid, http.Header{"Content-Encoding": {"gzip"}}, 415, "content encoding"},
	}
	for _, tc := range cases {
		code, body := harness.Post(t, url, tc.header, tc.body)
		if code != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, code, body, tc.status, tc.want)
		}
	}
	hook.Quiet(t, 0, 200*time.Millisecond)
	// GET is not an event.
	resp, err := harness.HTTPClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}

func TestEventsOverTheRateLimitAreTurnedAway(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	url := eventsServer(t, m, func(o *server.EventServerOptions) { o.RateLimit, o.RateBurst = 1, 2 })
	codes := map[int]int{}
	for i := range 6 {
		codes[postEvent(t, url, newEvent("GitRepository", ns, "app", "info", "R", "m"+string(rune('a'+i)), nil))]++
	}
	if codes[http.StatusAccepted] < 2 || codes[http.StatusServiceUnavailable] < 3 {
		t.Fatalf("answers %v: want the burst accepted and the rest 503", codes)
	}
}

func TestCrossNamespaceEvents(t *testing.T) {
	m := manager(t)
	alerts := env.Namespace(t)
	other := env.Namespace(t)
	hook := harness.NewDestination(t, nil)
	alertFor(t, m, alerts, "cross", hook.URL, func(s *notificationv1.AlertSpec) {
		s.EventSources = []src{{Kind: "GitRepository", Name: "*", Namespace: other}}
	})
	refused := eventsServer(t, m, func(o *server.EventServerOptions) { o.CrossNamespace = false })
	postEvent(t, refused, newEvent("GitRepository", other, "app", "info", "R", "refused", nil))
	hook.Quiet(t, 0, 300*time.Millisecond)

	allowed := eventsServer(t, m, nil)
	postEvent(t, allowed, newEvent("GitRepository", other, "app", "info", "R", "allowed", nil))
	if got := receivedEvents(t, hook.WaitFor(t, 1, 10*time.Second)); got[0].Message != "allowed" {
		t.Fatalf("got %q", got[0].Message)
	}
}

func TestSuspendedProvidersDropEvents(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	hook := harness.NewDestination(t, nil)
	url := eventsServer(t, m, nil)
	alertFor(t, m, ns, "p", hook.URL, nil)
	p := &notificationv1.Provider{}
	p.Namespace, p.Name = ns, "p"
	harness.Update(t, env.Client, p, func(p *notificationv1.Provider) { p.Spec.Suspend = true })
	m.WaitReady(t, p, "True", "")
	harness.Eventually(t, 10*time.Second, func() error {
		cached := &notificationv1.Provider{}
		if err := m.Client.Get(context.Background(), keyOf(p), cached); err != nil || !cached.Spec.Suspend {
			return errf("cache not updated: %v", err)
		}
		return nil
	})
	postEvent(t, url, newEvent("GitRepository", ns, "app", "info", "R", "m", nil))
	hook.Quiet(t, 0, 300*time.Millisecond)
}
