// Package e2e runs the real source-controller and kustomize-controller binaries, as processes,
// against the test control plane and a Git server on 127.0.0.1: a commit pushed to Git ends
// up in the cluster with nothing standing in for either controller.
//
// No controller runs in-process here. Each test starts its own pair of processes restricted by
// --watch-label-selector to its shard (the test's namespace), so objects left behind by an
// earlier test, in a namespace that never finishes terminating without
// kube-controller-manager, are invisible to later ones.
package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/pkg/testenv"
)

var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env, binaries.setup) }

const (
	timeout              = 60 * time.Second
	gitUser, gitPassword = "weir", "e2e-password"
)

// TestCommitAppliedAndPruned: the app in a Git repository is applied at the commit's revision;
// a new commit, announced with a reconcile request instead of waiting for the 1m interval,
// updates what changed and prunes what was removed.
func TestCommitAppliedAndPruned(t *testing.T) {
	ns := env.Namespace(t)
	c := startControllers(t, ns)
	repo := newGitServer(t).newRepo(t, "org/app", map[string]string{
		"README.md":               "not applied: outside spec.path\n",
		"app/settings.yaml":       configMap("settings", "1"),
		"app/features.yaml":       configMap("features", "on"),
		"app/serviceaccount.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n",
	})
	first := repo.revision(t)

	src := createGitRepository(t, ns, c.shard, repo.url)
	waitArtifact(t, src, first)
	if !strings.HasPrefix(src.Status.Artifact.URL, "http://"+c.storageAddr+"/") {
		t.Errorf("artifact URL %q is not on source-controller's advertised address %s", src.Status.Artifact.URL, c.storageAddr)
	}
	ks := createKustomization(t, ns, c.shard, "app", "./app")
	waitApplied(t, ks, first, timeout)
	for name, want := range map[string]string{"settings": "1", "features": "on"} {
		if got := configMapValue(t, ns, name); got != want {
			t.Errorf("ConfigMap %s value %q, want %q", name, got, want)
		}
	}
	var sa corev1.ServiceAccount
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, &sa); err != nil {
		t.Fatalf("ServiceAccount app: %v", err)
	}
	if sa.Labels["kustomize.weir.dev/name"] != "app" || sa.Labels["kustomize.weir.dev/namespace"] != ns {
		t.Errorf("ServiceAccount ownership labels %v", sa.Labels)
	}

	second := repo.commit(t, "change settings, drop features", map[string]string{
		"app/settings.yaml": configMap("settings", "2"),
		"app/features.yaml": "",
	})
	if second == first {
		t.Fatalf("the second commit has the first one's revision %s", first)
	}
	token := requestReconcile(t, src)
	// Well under the GitRepository's 1m interval: only the reconcile request can make it.
	waitApplied(t, ks, second, 30*time.Second)
	if got := configMapValue(t, ns, "settings"); got != "2" {
		t.Errorf("ConfigMap settings value %q, want 2", got)
	}
	testenv.Eventually(t, timeout, func() error {
		if got := configMapValue(t, ns, "features"); got != "<absent>" {
			return fmt.Errorf("ConfigMap features still present (value %q): not pruned", got)
		}
		return nil
	})
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, &sa); err != nil {
		t.Errorf("ServiceAccount app, unchanged in Git, is gone: %v", err)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(src), src); err != nil {
		t.Fatal(err)
	}
	if src.Status.LastHandledReconcileAt != token {
		t.Errorf("GitRepository lastHandledReconcileAt %q, want the request %q", src.Status.LastHandledReconcileAt, token)
	}
}
