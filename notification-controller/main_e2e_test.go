package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
)

// TestBinaryRoutesEventsAndWebhooks runs the built binary as deployed, with its own listeners,
// and checks main's wiring end to end: an event POSTed to --events-listen-addr reaches an
// Alert's webhook, and a webhook to --receiver-addr annotates the Receiver's GitRepository.
func TestBinaryRoutesEventsAndWebhooks(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	received := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		// Never block: Close waits for every handler, and only the first request is read.
		select {
		case received <- b:
		default:
		}
	}))
	defer hook.Close()

	events, receiver := testenv.FreePort(t), testenv.FreePort(t)
	bin := testenv.BuildBinary(t, ".")
	p := testenv.StartProcess(t, bin, "--kubeconfig="+env.KubeconfigPath, "--metrics-addr=0",
		fmt.Sprintf("--health-addr=127.0.0.1:%d", testenv.FreePort(t)), "--log-encoding=console",
		fmt.Sprintf("--events-listen-addr=127.0.0.1:%d", events), fmt.Sprintf("--receiver-addr=127.0.0.1:%d", receiver),
		// The webhook listens on 127.0.0.1, a cluster-internal address.
		"--allow-internal-addresses")

	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "token"}, StringData: map[string]string{"token": "e2e-token"}},
		&sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
			Spec: sourcev1.GitRepositorySpec{URL: "https://example.com/app.git", Interval: metav1.Duration{Duration: time.Minute}}},
		&notificationv1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hook"},
			Spec: notificationv1.ProviderSpec{Type: "generic", Address: hook.URL}},
		&notificationv1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "all"},
			Spec: notificationv1.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "hook"},
				EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "GitRepository", Name: "*"}}}},
		&notificationv1.Receiver{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "push"},
			Spec: notificationv1.ReceiverSpec{Type: "generic", SecretRef: meta.LocalObjectReference{Name: "token"},
				Resources: []notificationv1.CrossNamespaceObjectReference{{Kind: "GitRepository", Name: "app"}}}},
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	alert, rcv := objs[3].(*notificationv1.Alert), objs[4].(*notificationv1.Receiver)
	testenv.Eventually(t, 60*time.Second, env.ObjectIn(alert, meta.ReadyCondition, metav1.ConditionTrue, "", ""))
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.ObjectIn(rcv, meta.ReadyCondition, metav1.ConditionTrue, "", "")(); err != nil {
			return err
		}
		if rcv.Status.WebhookPath != rcv.GetWebhookPath("e2e-token") {
			return fmt.Errorf("webhookPath %q", rcv.Status.WebhookPath)
		}
		return nil
	})

	body, _ := json.Marshal(eventv1.Event{
		InvolvedObject: corev1.ObjectReference{APIVersion: "source.weir.dev/v1", Kind: "GitRepository", Namespace: ns, Name: "app"},
		Severity:       "info", Reason: "NewArtifact", Message: "stored artifact", ReportingController: "source-controller",
	})
	// No call to the binary may hang the test.
	httpClient := &http.Client{Timeout: 30 * time.Second}
	eventsURL := fmt.Sprintf("http://127.0.0.1:%d/", events)
	testenv.Eventually(t, 30*time.Second, func() error {
		resp, err := httpClient.Post(eventsURL, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("events endpoint answered %d", resp.StatusCode)
		}
		return nil
	})
	select {
	case got := <-received:
		var e eventv1.Event
		if err := json.Unmarshal(got, &e); err != nil || e.Message != "stored artifact" {
			t.Fatalf("the webhook got %s", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no notification; output:\n%s", p.Output())
	}

	resp, err := httpClient.Post(fmt.Sprintf("http://127.0.0.1:%d%s", receiver, rcv.Status.WebhookPath), "application/json", bytes.NewReader([]byte("{}")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("receiver answered %d; output:\n%s", resp.StatusCode, p.Output())
	}
	repo := objs[1].(*sourcev1.GitRepository)
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(repo), repo); err != nil {
		t.Fatal(err)
	}
	if v, _ := meta.ReconcileAnnotationValue(repo.Annotations); v == "" {
		t.Fatalf("the GitRepository was not annotated: %v", repo.Annotations)
	}
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v; output:\n%s", err, p.Output())
	}
}
