package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/local"
)

// githubToken is the secret the test's GitHub Receiver and its webhook share.
const githubToken = "e2e-github-webhook-secret"

// TestPushAndSignedGitHubWebhookApplyTheCommitAndNotify pushes a change, posts GitHub's push
// event to a github Receiver, and follows it to a new artifact, the Kustomization applying it
// and the notification naming its revision. A wrongly signed event is refused and does nothing.
func TestPushAndSignedGitHubWebhookApplyTheCommitAndNotify(t *testing.T) {
	hookURL := githubReceiver(t)

	writeFile(t, "app/configmap.yaml", configMap("podinfo-config", "Hello from a GitHub push"))
	revision := commitAndPush(t, "Change the greeting")
	body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","after":%q,"repository":{"clone_url":%q}}`,
		revision[len("main@sha1:"):], env.Demo.GitURL))
	before := len(env.Demo.Notifications())
	requested := gitRepository(t).Annotations[meta.ReconcileRequestAnnotation]

	// A request signed with another secret is refused, and the GitRepository is not asked to reconcile.
	if code := postGitHub(t, hookURL, body, sign([]byte("not-the-secret"), body)); code != http.StatusUnauthorized {
		t.Fatalf("wrongly signed webhook: HTTP %d, want %d", code, http.StatusUnauthorized)
	}
	// No wait: the server annotates the objects to reconcile before it answers, so a refused
	// request that had requested a reconcile would show in the annotation by now.
	if got := gitRepository(t).Annotations[meta.ReconcileRequestAnnotation]; got != requested {
		t.Fatalf("a wrongly signed webhook requested a reconcile: %s=%q, was %q", meta.ReconcileRequestAnnotation, got, requested)
	}

	// The signed push event reconciles the GitRepository at once (its interval is a minute).
	sent := time.Now()
	if code := postGitHub(t, hookURL, body, sign([]byte(githubToken), body)); code != http.StatusOK {
		t.Fatalf("signed webhook: HTTP %d, want %d", code, http.StatusOK)
	}
	eventually(t, 20*time.Second, "the GitRepository's artifact at "+revision, func() error {
		repo := gitRepository(t)
		if repo.Annotations[meta.ReconcileRequestAnnotation] == requested {
			return fmt.Errorf("the Receiver did not request a reconcile")
		}
		if repo.Status.Artifact == nil || repo.Status.Artifact.Revision != revision {
			return fmt.Errorf("artifact %+v", repo.Status.Artifact)
		}
		return nil
	})
	appliedRevision(t, "app", revision, 30*time.Second)
	waitConfigMap(t, "podinfo-config", "Hello from a GitHub push")
	appliedRevision(t, "app-staging", revision, 30*time.Second)
	t.Logf("push → webhook → applied in %s", time.Since(sent).Round(time.Millisecond))

	n := notificationFor(t, before, "Kustomization", "app", func(n local.Notification) bool { return n.Revision == revision })
	t.Logf("notification: %s", n)
}

// githubReceiver creates a github Receiver for the demo's GitRepository, with its token
// Secret, and returns its webhook URL once it is Ready.
func githubReceiver(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: local.DemoNamespace, Name: "github-token"},
		StringData: map[string]string{"token": githubToken},
	}
	rcv := &notificationv1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Namespace: local.DemoNamespace, Name: "github"},
		Spec: notificationv1.ReceiverSpec{
			Type:      notificationv1.GitHubReceiver,
			Events:    []string{"push"},
			SecretRef: meta.LocalObjectReference{Name: secret.Name},
			Resources: []notificationv1.CrossNamespaceObjectReference{{Kind: sourcev1.GitRepositoryKind, Name: "demo"}},
		},
	}
	if err := env.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, rcv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), rcv)
		_ = env.Client.Delete(context.Background(), secret)
	})
	eventually(t, 20*time.Second, "the github Receiver is Ready", func() error {
		if err := env.Client.Get(ctx, demoKey(rcv.Name), rcv); err != nil {
			return err
		}
		if err := readyErr(rcv.Status.Conditions, rcv.Generation); err != nil {
			return err
		}
		if rcv.Status.WebhookPath == "" {
			return fmt.Errorf("no webhook path")
		}
		return nil
	})
	base, err := url.Parse(env.Demo.ReceiverURL)
	if err != nil {
		t.Fatal(err)
	}
	return base.Scheme + "://" + base.Host + rcv.Status.WebhookPath
}

// sign returns GitHub's X-Hub-Signature-256 of body with key.
func sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// postGitHub posts body as GitHub's push event with signature and returns the status code.
func postGitHub(t *testing.T, hookURL string, body []byte, signature string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// configMap is a ConfigMap manifest of the demo app.
func configMap(name, message string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
data:
  message: %q
`, name, message)
}
