package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/local"
	"weir.dev/cli/internal/local/localtest"
)

// env is the local Weir every test of the package drives; the tests share its demo, so they
// do not run in parallel.
var env *local.Env

func TestMain(m *testing.M) {
	os.Exit(localtest.Run(m, local.Options{Demo: true}, &env, nil))
}

// eventually polls check until it returns nil, and fails t after timeout naming what.
var eventually = localtest.Eventually

// git runs git in the demo's working copy with the demo's identity and returns its output.
func git(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = env.Demo.WorkDir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Weir e2e", "GIT_AUTHOR_EMAIL=e2e@weir.dev",
		"GIT_COMMITTER_NAME=Weir e2e", "GIT_COMMITTER_EMAIL=e2e@weir.dev",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// writeFile writes content to path inside the demo's working copy.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	full := filepath.Join(env.Demo.WorkDir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// commitAndPush commits every change of the working copy, pushes it and returns the
// revision source-controller gives the commit.
func commitAndPush(t *testing.T, message string) string {
	t.Helper()
	git(t, "add", "--all")
	git(t, "commit", "--quiet", "--message", message)
	return push(t)
}

// push pushes main and returns the revision of its head.
func push(t *testing.T) string {
	t.Helper()
	git(t, "push", "--quiet", "origin", "main")
	return "main@sha1:" + git(t, "rev-parse", "HEAD")
}

// requestReconcile asks for an immediate reconcile of o, as `weir reconcile` does, and
// returns the request's value.
func requestReconcile(t *testing.T, o client.Object) string {
	t.Helper()
	ctx := context.Background()
	at := time.Now().Format(time.RFC3339Nano)
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(o.DeepCopyObject().(client.Object))
	ann := o.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[meta.ReconcileRequestAnnotation] = at
	o.SetAnnotations(ann)
	if err := env.Client.Patch(ctx, o, patch); err != nil {
		t.Fatal(err)
	}
	return at
}

// demoKey is the key of the demo object name.
func demoKey(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: local.DemoNamespace, Name: name}
}

// gitRepository returns the demo's GitRepository.
func gitRepository(t *testing.T) *sourcev1.GitRepository {
	t.Helper()
	repo := &sourcev1.GitRepository{}
	if err := env.Client.Get(context.Background(), demoKey("demo"), repo); err != nil {
		t.Fatal(err)
	}
	return repo
}

// triggerSource reconciles the demo's GitRepository at once, as the demo's generic Receiver would.
func triggerSource(t *testing.T) {
	t.Helper()
	requestReconcile(t, &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: local.DemoNamespace, Name: "demo"}})
}

// readyErr returns nil when conditions say Ready=True for generation, or why not.
func readyErr(conditions []metav1.Condition, generation int64) error {
	ready := apimeta.FindStatusCondition(conditions, meta.ReadyCondition)
	switch {
	case ready == nil:
		return fmt.Errorf("no Ready condition")
	case ready.ObservedGeneration != generation:
		return fmt.Errorf("Ready is for generation %d, not %d", ready.ObservedGeneration, generation)
	case ready.Status != metav1.ConditionTrue:
		return fmt.Errorf("not Ready: %s: %s", ready.Reason, ready.Message)
	}
	return nil
}

// appliedRevision waits until the Kustomization name is Ready having applied revision.
func appliedRevision(t *testing.T, name, revision string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "Kustomization "+name+" applies "+revision, func() error {
		ks := &kustomizev1.Kustomization{}
		if err := env.Client.Get(context.Background(), demoKey(name), ks); err != nil {
			return err
		}
		if ks.Status.LastAppliedRevision != revision {
			return fmt.Errorf("applied %q", ks.Status.LastAppliedRevision)
		}
		return readyErr(ks.Status.Conditions, ks.Generation)
	})
}

// configMapMessage returns data.message of the ConfigMap name in the demo namespace, or an
// error when it does not exist.
func configMapMessage(name string) (string, error) {
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(context.Background(), demoKey(name), cm); err != nil {
		return "", err
	}
	return cm.Data["message"], nil
}

// waitConfigMap waits until the ConfigMap name says message.
func waitConfigMap(t *testing.T, name, message string) {
	t.Helper()
	eventually(t, 30*time.Second, "ConfigMap "+name+" says "+message, func() error {
		got, err := configMapMessage(name)
		if err != nil {
			return err
		}
		if got != message {
			return fmt.Errorf("message %q", got)
		}
		return nil
	})
}

// notificationFor waits until the demo's webhook received, after the first skip
// notifications, one about kind/name that matches.
func notificationFor(t *testing.T, skip int, kind, name string, match func(local.Notification) bool) local.Notification {
	t.Helper()
	var found local.Notification
	eventually(t, 30*time.Second, "a notification about "+kind+"/"+name, func() error {
		all := env.Demo.Notifications()
		for _, n := range all[min(skip, len(all)):] {
			if n.Kind == kind && n.Name == name && match(n) {
				found = n
				return nil
			}
		}
		return fmt.Errorf("%d notifications since, none matches: %v", len(all)-min(skip, len(all)), all[min(skip, len(all)):])
	})
	return found
}
