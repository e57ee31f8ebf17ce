package server_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/harness"
	"weir.dev/notification-controller/internal/server"
	"weir.dev/pkg/testenv"
)

// TestMetricsScrape scrapes /metrics (controller-runtime's metrics server on 127.0.0.1) after
// real traffic: one Alert delivery to a loopback webhook that accepts it and one to a webhook
// that refuses it are counted by provider type and outcome; a correctly signed, a forged and a
// misaddressed webhook request are counted by receiver type and outcome. Counters are
// process-wide, so they are compared with a scrape taken before.
func TestMetricsScrape(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	url := testenv.ServeMetrics(t)
	before, err := testenv.ScrapeMetrics(url)
	if err != nil {
		t.Fatal(err)
	}
	count := func(name string, labels map[string]string) float64 {
		v, _ := before.Value(name, labels)
		return v
	}
	delivered := map[string]string{"provider": "generic", "outcome": "delivered"}
	failed := map[string]string{"provider": "generic", "outcome": "failed"}
	accepted := map[string]string{"type": "generic-hmac", "outcome": "accepted"}
	rejected := map[string]string{"type": "generic-hmac", "outcome": "rejected"}
	unknown := map[string]string{"type": "unknown", "outcome": "rejected"}
	want := []testenv.Series{
		testenv.Expect("weir_notification_deliveries_total", delivered, testenv.Above(count("weir_notification_deliveries_total", delivered))),
		testenv.Expect("weir_notification_deliveries_total", failed, testenv.Above(count("weir_notification_deliveries_total", failed))),
		testenv.Expect("weir_receiver_requests_total", accepted, testenv.Above(count("weir_receiver_requests_total", accepted))),
		testenv.Expect("weir_receiver_requests_total", rejected, testenv.Above(count("weir_receiver_requests_total", rejected))),
		testenv.Expect("weir_receiver_requests_total", unknown, testenv.Above(count("weir_receiver_requests_total", unknown))),
	}

	ok := harness.NewDestination(t, nil)
	refusing := harness.NewDestination(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such channel", http.StatusNotFound)
	})
	events := eventsServer(t, m, nil)
	alertFor(t, m, ns, "ok", ok.URL, func(a *notificationv1.AlertSpec) { a.EventSources = []src{{Kind: "GitRepository", Name: "ok"}} })
	alertFor(t, m, ns, "refusing", refusing.URL, func(a *notificationv1.AlertSpec) { a.EventSources = []src{{Kind: "GitRepository", Name: "refusing"}} })
	for _, name := range []string{"ok", "refusing"} {
		if code := postEvent(t, events, newEvent("GitRepository", ns, name, "info", "NewArtifact", "stored", nil)); code != http.StatusAccepted {
			t.Fatalf("POST event: %d", code)
		}
	}
	ok.WaitFor(t, 1, 30*time.Second)
	refusing.WaitFor(t, 1, 30*time.Second)

	hooks := m.StartReceiverServer(t, server.ReceiverServerOptions{})
	r := receiverFixture(t, m, ns, "generic-hmac", nil)
	s := senders["generic-hmac"]
	if code, body := send(t, hooks+r.Status.WebhookPath, s.good); code != http.StatusOK {
		t.Fatalf("correct request: %d %s", code, body)
	}
	if code, body := send(t, hooks+r.Status.WebhookPath, s.forged); code != http.StatusUnauthorized {
		t.Fatalf("forged request: %d %s", code, body)
	}
	if code, body := send(t, hooks+"/hook/nothing-here", s.good); code != http.StatusNotFound {
		t.Fatalf("request to no receiver: %d %s", code, body)
	}

	var scrape testenv.Scrape
	testenv.Eventually(t, 30*time.Second, func() error {
		var err error
		if scrape, err = testenv.ScrapeMetrics(url); err != nil {
			return err
		}
		return scrape.Check(want)
	})
	testenv.CheckRecordedMetrics(t, scrape, filepath.Join(env.RepoRoot, "pkg", "manifests", "testdata", "metrics", "notification-controller.txt"))
}
