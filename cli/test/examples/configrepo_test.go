package examples

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/cli/test/examples/internal/harness"
	"weir.dev/pkg/testenv"
)

const (
	frontendImage = "ghcr.io/acme/frontend"
	// githubToken is the token of the Secret github-token, which the GitHub stand-in requires.
	githubToken = "ghp-examples-test-token"
	// webhookSecret is the Secret github-webhook's token, shared with GitHub's webhook.
	webhookSecret = "examples-webhook-secret"
)

// TestConfigRepo runs docs/examples/config-repo: the config repository's production entry point
// deploys the frontend at the tag in deploy/; CI's commit of a new tag, announced by GitHub's
// signed push webhook to the Receiver, is applied (the Deployment's image changes), posted to
// Slack in Slack's message format naming the commit, and reported on the commit as a
// successful GitHub commit status.
func TestConfigRepo(t *testing.T) {
	ctx := context.Background()
	c := env.Client
	slack := startSlack(t)
	github := newGitHub(githubToken)
	host := harness.StartGitHost(t, github)
	examples := filepath.Join(harness.ExamplesDir(t), "config-repo")
	// The app repository is GitHub's business (CI builds the image); only the config
	// repository is applied. Both are pushed, as a user has both.
	host.Publish(t, "frontend", filepath.Join(examples, "frontend"), nil)
	config := host.Publish(t, "frontend-config", filepath.Join(examples, "frontend-config"), nil)

	// The three Secrets README.md creates with kubectl, then kubectl apply -k clusters/production.
	for name, data := range map[string]map[string]string{
		"slack-webhook":  {"address": slack.url},
		"github-token":   {"token": githubToken},
		"github-webhook": {"token": webhookSecret},
	} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: harness.WeirNamespace, Name: name}, StringData: data}
		if err := c.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	harness.Apply(t, c, filepath.Join(config.Dir, "clusters", "production"))

	first := config.Head(t)
	waitApplied(t, "frontend", first)
	// The entry point's own Kustomization took over what kubectl applied.
	waitApplied(t, "frontend-config", first)
	waitImage(t, frontendImage+":1.0.0")
	receiver := &notificationv1.Receiver{ObjectMeta: metav1.ObjectMeta{Namespace: harness.WeirNamespace, Name: "github"}}
	harness.WaitReady(t, c, receiver, time.Minute, func() error {
		if receiver.Status.WebhookPath == "" {
			return fmt.Errorf("no status.webhookPath")
		}
		return nil
	})
	for _, name := range []string{"slack", "github-status"} {
		harness.WaitReady(t, c, &notificationv1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: harness.WeirNamespace, Name: name}}, time.Minute, nil)
	}

	// CI, after pushing the image: `kustomize edit set image ghcr.io/acme/frontend:1.1.0` in
	// deploy/, commit, push; GitHub then posts its push event to the Receiver.
	setImageTag(t, config, "1.1.0")
	bump := config.CommitAndPush(t, "frontend 1.1.0")
	hookURL := "http://" + env.ReceiverAddr() + receiver.Status.WebhookPath
	body := fmt.Appendf(nil, `{"ref":"refs/heads/main","after":%q,"repository":{"full_name":"acme/frontend-config","clone_url":%q}}`, bump, config.URL)
	if code := postGitHubPush(t, hookURL, body); code != http.StatusOK {
		t.Fatalf("GitHub's push webhook: HTTP %d", code)
	}
	// The source's interval is 5m: within the test's deadline only the webhook makes it.
	waitApplied(t, "frontend", bump)
	waitImage(t, frontendImage+":1.1.0")

	// Slack got a message about the frontend's Kustomization naming the new commit.
	revision := "main@sha1:" + bump
	testenv.Eventually(t, time.Minute, func() error {
		got, refused := slack.messages()
		if len(refused) > 0 {
			return fmt.Errorf("the Slack stand-in refused messages: %v", refused)
		}
		for _, m := range got {
			if m.Channel != "deployments" || m.Username != "weir" || len(m.Attachments) != 1 {
				continue
			}
			a := m.Attachments[0]
			if a.AuthorName != "Kustomization "+harness.WeirNamespace+"/frontend" || a.Title != "frontend in production" {
				continue
			}
			for _, f := range a.Fields {
				if f.Title == "Revision" && strings.Contains(f.Value, revision) {
					t.Logf("Slack: %s | %s | %s", a.AuthorName, a.Text, f.Value)
					return nil
				}
			}
		}
		return fmt.Errorf("no Slack message about Kustomization %s/frontend at %s among %d: %+v", harness.WeirNamespace, revision, len(got), got)
	})

	// GitHub got a successful commit status on the pushed commit, for the Kustomization.
	testenv.Eventually(t, time.Minute, func() error {
		got, refused := github.statuses()
		if len(refused) > 0 {
			return fmt.Errorf("the GitHub stand-in refused requests: %v", refused)
		}
		for _, s := range got {
			if s.Owner == "acme" && s.Repo == "frontend-config" && s.SHA == bump && s.State == "success" &&
				s.Context == "kustomization/"+harness.WeirNamespace+"/frontend" {
				t.Logf("GitHub: %s %s on %s: %s", s.Context, s.State, s.SHA, s.Description)
				return nil
			}
		}
		return fmt.Errorf("no success status for %s among %+v", bump, got)
	})
}

// setImageTag sets the tag of the frontend's image in deploy/kustomization.yaml, as
// `kustomize edit set image` does, keeping the file's comments.
func setImageTag(t *testing.T, r *harness.Repo, tag string) {
	t.Helper()
	const path = "deploy/kustomization.yaml"
	node, err := kyaml.Parse(r.Read(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.Pipe(kyaml.Lookup("images", "[name="+frontendImage+"]"), kyaml.SetField("newTag", kyaml.NewStringRNode(tag))); err != nil {
		t.Fatal(err)
	}
	out, err := node.String()
	if err != nil {
		t.Fatal(err)
	}
	r.Write(t, path, out)
}

// postGitHubPush posts body as GitHub's push event, signed with webhookSecret, and returns the
// status code.
func postGitHubPush(t *testing.T, hookURL string, body []byte) int {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitApplied waits until the Kustomization name in Weir's namespace is Ready having applied
// commit.
func waitApplied(t *testing.T, name, commit string) {
	t.Helper()
	ks := kustomization(name)
	harness.WaitReady(t, env.Client, ks, 2*time.Minute, func() error {
		if want := "main@sha1:" + commit; ks.Status.LastAppliedRevision != want {
			return fmt.Errorf("applied %q, not %q", ks.Status.LastAppliedRevision, want)
		}
		return nil
	})
}

// waitImage waits until the frontend's Deployment runs image.
func waitImage(t *testing.T, image string) {
	t.Helper()
	testenv.Eventually(t, time.Minute, func() error {
		d := &appsv1.Deployment{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: "frontend", Name: "frontend"}, d); err != nil {
			return err
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != image {
			return fmt.Errorf("the Deployment runs %s, not %s", got, image)
		}
		return nil
	})
}
