package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/harness"
)

const gitToken = "glpat-commit-status-token-789"

// TestCommitStatuses sends a Kustomization's progressing, succeeded and failed events through
// github and gitlab Providers and checks each API got the right state for the revision's
// commit, keyed by the object.
func TestCommitStatuses(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	url := eventsServer(t, m, nil)
	github := harness.NewDestination(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	gitlab := harness.NewDestination(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	m.Secret(t, ns, "git-token", map[string]string{"token": gitToken})
	for name, addr := range map[string]string{"github": github.URL + "/org/app", "gitlab": gitlab.URL + "/group/sub/app.git"} {
		p := &notificationv1.Provider{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       notificationv1.ProviderSpec{Type: name, Address: addr, SecretRef: &meta.LocalObjectReference{Name: "git-token"}},
		}
		m.Create(t, p)
		a := &notificationv1.Alert{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: notificationv1.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: name},
				EventSources: []src{{Kind: "Kustomization", Name: "*"}}},
		}
		m.Create(t, a)
		m.WaitReady(t, a, "True", "")
	}
	rev := map[string]string{"kustomize.weir.dev/revision": "main@sha1:" + sha}
	for _, e := range [][3]string{
		{"info", "Progressing", "applying"},
		{"info", "ReconciliationSucceeded", "applied revision main@sha1:" + sha},
		{"error", "HealthCheckFailed", "Deployment/default/web not ready"},
	} {
		postEvent(t, url, newEvent("Kustomization", ns, "apps", e[0], e[1], e[2], rev))
	}
	// An event without a commit sets no status.
	postEvent(t, url, newEvent("Kustomization", ns, "apps", "info", "ReconciliationSucceeded", "no revision", nil))

	key := "kustomization/" + ns + "/apps"
	gh := github.WaitFor(t, 3, 10*time.Second)
	for i, state := range []string{"pending", "success", "failure"} {
		if gh[i].Path != "/api/v3/repos/org/app/statuses/"+sha || gh[i].Header.Get("Authorization") != "Bearer "+gitToken {
			t.Errorf("github request %d: %s %s", i, gh[i].Path, gh[i].Header.Get("Authorization"))
		}
		if !strings.Contains(string(gh[i].Body), `"state":"`+state+`"`) || !strings.Contains(string(gh[i].Body), `"context":"`+key+`"`) {
			t.Errorf("github status %d: %s, want state %s", i, gh[i].Body, state)
		}
	}
	gl := gitlab.WaitFor(t, 3, 10*time.Second)
	for i, state := range []string{"running", "success", "failed"} {
		if gl[i].Path != "/api/v4/projects/group%2Fsub%2Fapp/statuses/"+sha || gl[i].Header.Get("Private-Token") != gitToken {
			t.Errorf("gitlab request %d: %s", i, gl[i].Path)
		}
		harness.JSONEqual(t, gl[i].Body, `{"state":"`+state+`","name":"`+key+`","description":`+quote(
			[]string{"applying", "applied revision main@sha1:" + sha, "Deployment/default/web not ready"}[i])+`}`)
	}
	github.Quiet(t, 3, 200*time.Millisecond)
	gitlab.Quiet(t, 3, 0)
}

// TestDeliveryFailuresDoNotLeakSecrets has a webhook whose address embeds a token answer 500
// with the path it was called on; what the controller logs must not show it.
func TestDeliveryFailuresDoNotLeakSecrets(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	echo := harness.NewDestination(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook "+r.URL.Path+" auth="+r.Header.Get("Authorization"), http.StatusInternalServerError)
	})
	url := eventsServer(t, m, nil)
	secretPath := "/hooks/" + gitToken
	m.Secret(t, ns, "hook", map[string]string{"address": echo.URL + secretPath, "headers": "Authorization: Bearer " + gitToken})
	p := &notificationv1.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "leaky"},
		Spec:       notificationv1.ProviderSpec{Type: "generic", SecretRef: &meta.LocalObjectReference{Name: "hook"}},
	}
	m.Create(t, p)
	alertFor(t, m, ns, "other", echo.URL+"/plain", nil) // a second alert so the namespace has a Ready pair
	a := &notificationv1.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "leaky"},
		Spec:       notificationv1.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "leaky"}, EventSources: []src{{Kind: "GitRepository", Name: "*"}}},
	}
	m.Create(t, a)
	m.WaitReady(t, a, "True", "")
	postEvent(t, url, newEvent("GitRepository", ns, "app", "error", "Failed", "boom", nil))
	reqs := echo.WaitFor(t, 2*fastRetries.Backoff.Attempts, 10*time.Second)
	// Both Providers deliver to echo, in no set order: look at the leaky one's requests.
	leaky := 0
	for _, r := range reqs {
		if r.Path != secretPath {
			continue
		}
		leaky++
		if r.Header.Get("Authorization") != "Bearer "+gitToken {
			t.Fatalf("the Secret's header was not sent")
		}
	}
	if leaky == 0 {
		t.Fatalf("no request on the Secret's address among %d", len(reqs))
	}
	harness.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(m.Logs.String(), "notification not delivered") {
			return errf("the failure is not logged yet")
		}
		return nil
	})
	if logs := m.Logs.String(); strings.Contains(logs, gitToken) {
		t.Fatalf("the logs show the token")
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
