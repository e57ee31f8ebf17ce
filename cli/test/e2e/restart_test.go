package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/cli/internal/local"
)

// crashObjects is how many ConfigMaps the crash test adds: enough that applying them takes
// long enough to kill kustomize-controller in the middle.
const crashObjects = 100

// TestKustomizeControllerKilledMidApplyConverges pushes a commit adding many ConfigMaps,
// kills kustomize-controller with SIGKILL as soon as the first of them exists, so in the
// middle of the apply, and restarts it: the Kustomizations converge on the head revision with
// every object once in the cluster and in the inventory, nothing lost or doubled. Deleting
// the file afterwards prunes them all.
func TestKustomizeControllerKilledMidApplyConverges(t *testing.T) {
	ctx := context.Background()
	entries := inventory(t, "app")

	var many strings.Builder
	for i := range crashObjects {
		fmt.Fprintf(&many, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: crash-%03d\n  labels:\n    e2e: crash\ndata:\n  index: %q\n", i, fmt.Sprint(i))
	}
	// Keep whatever resources earlier tests left in app/kustomization.yaml.
	original, err := os.ReadFile(filepath.Join(env.Demo.WorkDir, "app", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, "app/many.yaml", many.String())
	writeFile(t, "app/kustomization.yaml", string(original)+"  - many.yaml\n")
	revision := commitAndPush(t, "Add many ConfigMaps")
	triggerSource(t)
	// Poll fast: kill as soon as the apply has begun.
	for deadline := time.Now().Add(20 * time.Second); crashConfigMaps(t) == 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("none of the ConfigMaps of %s applied within 20s", revision)
		}
	}
	if err := env.KillController("kustomize-controller"); err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{}
	if err := env.Client.Get(ctx, demoKey("app"), ks); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %d of %d ConfigMaps applied, the Kustomization at %s",
		crashConfigMaps(t), 2*crashObjects, ks.Status.LastAppliedRevision)
	if err := env.StartController(ctx, "kustomize-controller"); err != nil {
		t.Fatal(err)
	}
	appliedRevision(t, "app", revision, 60*time.Second)
	appliedRevision(t, "app-staging", revision, 60*time.Second)
	if n := crashConfigMaps(t); n != 2*crashObjects {
		t.Errorf("%d ConfigMaps after the restart, want %d (app and its staging overlay)", n, 2*crashObjects)
	}
	got := inventory(t, "app")
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("inventory lists %s twice", id)
		}
		seen[id] = true
	}
	if len(got) != len(entries)+crashObjects {
		t.Errorf("inventory has %d entries, want %d", len(got), len(entries)+crashObjects)
	}

	git(t, "rm", "--quiet", "app/many.yaml")
	writeFile(t, "app/kustomization.yaml", string(original))
	removed := commitAndPush(t, "Remove the many ConfigMaps")
	triggerSource(t)
	appliedRevision(t, "app", removed, 60*time.Second)
	appliedRevision(t, "app-staging", removed, 60*time.Second)
	eventually(t, 20*time.Second, "the ConfigMaps pruned", func() error {
		if n := crashConfigMaps(t); n != 0 {
			return fmt.Errorf("%d left", n)
		}
		return nil
	})
	if got := inventory(t, "app"); fmt.Sprint(got) != fmt.Sprint(entries) {
		t.Errorf("inventory %v, was %v", got, entries)
	}
}

// crashConfigMaps counts the crash test's ConfigMaps in the demo namespace.
func crashConfigMaps(t *testing.T) int {
	t.Helper()
	list := &corev1.ConfigMapList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(local.DemoNamespace), client.MatchingLabels{"e2e": "crash"}); err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

// TestHelmControllerKilledAndRestartedMakesNoNewRevision kills helm-controller with SIGKILL
// and restarts it: it reconciles the HelmRelease again without a new Helm revision.
func TestHelmControllerKilledAndRestartedMakesNoNewRevision(t *testing.T) {
	ctx := context.Background()
	name := env.Demo.HelmRelease
	hr := &helmv1.HelmRelease{}
	if err := env.Client.Get(ctx, demoKey(name), hr); err != nil {
		t.Fatal(err)
	}
	history := versions(hr.Status.History)
	releases := helmReleaseSecrets(t, name)

	if err := env.KillController("helm-controller"); err != nil {
		t.Fatal(err)
	}
	requested := requestReconcile(t, hr)
	if err := env.StartController(ctx, "helm-controller"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the restarted helm-controller handles the reconcile request", func() error {
		if err := env.Client.Get(ctx, demoKey(name), hr); err != nil {
			return err
		}
		if hr.Status.LastHandledReconcileAt != requested {
			return fmt.Errorf("handled %q, not %q", hr.Status.LastHandledReconcileAt, requested)
		}
		return readyErr(hr.Status.Conditions, hr.Generation)
	})
	if got := versions(hr.Status.History); fmt.Sprint(got) != fmt.Sprint(history) {
		t.Errorf("history after the restart %v, was %v", got, history)
	}
	if got := helmReleaseSecrets(t, name); got != releases {
		t.Errorf("%d Helm release Secrets after the restart, were %d", got, releases)
	}
}

// inventory returns the IDs in the Kustomization name's inventory.
func inventory(t *testing.T, name string) []string {
	t.Helper()
	ks := &kustomizev1.Kustomization{}
	if err := env.Client.Get(context.Background(), demoKey(name), ks); err != nil {
		t.Fatal(err)
	}
	if ks.Status.Inventory == nil {
		t.Fatalf("Kustomization %s has no inventory", name)
	}
	var ids []string
	for _, e := range ks.Status.Inventory.Entries {
		ids = append(ids, e.ID)
	}
	return ids
}

// helmReleaseSecrets counts the Secrets in which Helm stores the release name's revisions.
func helmReleaseSecrets(t *testing.T, name string) int {
	t.Helper()
	list := &corev1.SecretList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(local.DemoNamespace),
		client.MatchingLabels{"owner": "helm", "name": name}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) == 0 {
		t.Fatalf("no Helm release Secrets of %s", name)
	}
	return len(list.Items)
}
