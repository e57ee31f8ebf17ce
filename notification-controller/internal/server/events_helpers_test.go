package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/notification-controller/internal/dispatch"
	"weir.dev/notification-controller/internal/harness"
	"weir.dev/notification-controller/internal/server"
)

const sha = "8f3c0a9be3d7d1a2f05b6c1c4b0c8e6fa1b2c3d4"

// fastRetries keep retry tests short.
var fastRetries = dispatch.Options{Backoff: dispatch.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Attempts: 4}}

// eventsServer starts an event server with fast retries, no dedup and no rate limit unless
// edit says otherwise.
func eventsServer(t testing.TB, m *harness.Manager, edit func(*server.EventServerOptions)) string {
	opts := server.EventServerOptions{CrossNamespace: true, Dispatch: fastRetries}
	if edit != nil {
		edit(&opts)
	}
	return m.StartEventServer(t, opts)
}

func newEvent(kind, ns, name, severity, reason, msg string, metadata map[string]string) eventv1.Event {
	group := sourcev1.GroupVersion.String()
	if kind == "Kustomization" {
		group = "kustomize.weir.dev/v1"
	}
	return eventv1.Event{
		InvolvedObject:      corev1.ObjectReference{APIVersion: group, Kind: kind, Namespace: ns, Name: name},
		Severity:            severity,
		Timestamp:           metav1.NewTime(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)),
		Message:             msg,
		Reason:              reason,
		Action:              "Reconcile",
		Metadata:            metadata,
		ReportingController: "source-controller",
	}
}

// postEvent POSTs e as the other controllers do and returns the status code.
func postEvent(t *testing.T, url string, e eventv1.Event) int {
	t.Helper()
	body, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := harness.Post(t, url, http.Header{"Content-Type": {"application/json"}}, body)
	return code
}

type src = notificationv1.CrossNamespaceObjectReference

// alertFor creates a generic Provider posting to url and an Alert routing to it, and waits until
// both are Ready (and so in the servers' cache).
func alertFor(t testing.TB, m *harness.Manager, ns, name, url string, edit func(*notificationv1.AlertSpec)) {
	t.Helper()
	p := &notificationv1.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       notificationv1.ProviderSpec{Type: "generic", Address: url},
	}
	m.Create(t, p)
	a := &notificationv1.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: notificationv1.AlertSpec{
			ProviderRef:  meta.LocalObjectReference{Name: name},
			EventSources: []src{{Kind: "GitRepository", Name: "*"}},
		},
	}
	if edit != nil {
		edit(&a.Spec)
	}
	m.Create(t, a)
	m.WaitReady(t, p, "True", "")
	m.WaitReady(t, a, "True", "")
}

// receivedEvents decodes the events a generic webhook received.
func receivedEvents(t *testing.T, reqs []harness.Request) []eventv1.Event {
	t.Helper()
	out := make([]eventv1.Event, 0, len(reqs))
	for _, r := range reqs {
		var e eventv1.Event
		if err := json.Unmarshal(r.Body, &e); err != nil {
			t.Fatalf("not an event: %s", r.Body)
		}
		out = append(out, e)
	}
	return out
}

func gitRepository(ns, name, url string, labels map[string]string) *sourcev1.GitRepository {
	return &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       sourcev1.GitRepositorySpec{URL: url, Interval: metav1.Duration{Duration: time.Minute}},
	}
}
