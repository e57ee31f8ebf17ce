package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestCreateBecomesReady runs `weir create source git` and `weir create kustomization`
// against the local Weir: the GitRepository fetches the demo's repository from its Git server
// on 127.0.0.1 and the Kustomization applies its app/ into a namespace of the test's; a
// branch that does not exist fails with the controller's reason.
func TestCreateBecomesReady(t *testing.T) {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "e2e-create"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), ns) })

	code, out, errOut := weir(t, "create", "source", "git", "sample", "-n", ns.Name, "--url", env.Demo.GitURL, "--branch", "main", "--timeout", "3m")
	t.Logf("weir create source git:\n%s", out)
	if code != 0 || !strings.Contains(out, "✔ GitRepository e2e-create/sample is Ready") || !strings.Contains(out, "revision main@sha1:") {
		t.Fatalf("create source git: exit %d, %q\n%s", code, errOut, out)
	}

	code, out, errOut = weir(t, "create", "kustomization", "sample", "-n", ns.Name, "--source", "GitRepository/sample", "--path", "./app",
		"--prune", "--target-namespace", ns.Name, "--timeout", "3m")
	t.Logf("weir create kustomization:\n%s", out)
	if code != 0 || !strings.Contains(out, "✔ Kustomization e2e-create/sample is Ready") {
		t.Fatalf("create kustomization: exit %d, %q\n%s", code, errOut, out)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "podinfo-config"}, &corev1.ConfigMap{}); err != nil {
		t.Errorf("the Kustomization did not apply app/: %v", err)
	}

	code, out, errOut = weir(t, "create", "source", "git", "no-branch", "-n", ns.Name, "--url", env.Demo.GitURL, "--branch", "no-such-branch", "--timeout", "3m")
	t.Logf("weir create source git --branch no-such-branch:\n%s%s", out, errOut)
	if code != 1 || !strings.Contains(out, "✗ GitRepository e2e-create/no-branch is not Ready; source-controller retries it") || !strings.Contains(errOut, "ReferenceNotFound: reference not found: refs/heads/no-such-branch") {
		t.Errorf("a missing branch: exit %d, %q\n%s", code, errOut, out)
	}
}
