package examples

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/cmd"
	"weir.dev/cli/test/examples/internal/harness"
	"weir.dev/pkg/testenv"
)

// fluxNamespace is where the example's objects live, as in a Flux installation.
const fluxNamespace = "flux-system"

// TestArtifactGenerator runs docs/examples/artifact-generator, a repository in Flux 2.7's
// layout: `weir migrate --in-place` rewrites it with no finding; applied, its ArtifactGenerator
// splits the repository into the "infrastructure" and "apps" ExternalArtifacts, which two
// Kustomizations apply (apps after infrastructure). A commit to apps/ only is applied by apps,
// while infrastructure's artifact, and so its Kustomization, stay exactly as they were.
func TestArtifactGenerator(t *testing.T) {
	ctx := context.Background()
	c := env.Client

	// weir migrate -f <copy> --in-place
	dir := filepath.Join(t.TempDir(), "fleet")
	copyTree(t, filepath.Join(harness.ExamplesDir(t), "artifact-generator"), dir)
	var out, errOut bytes.Buffer
	if code := cmd.Execute([]string{"migrate", "-f", dir, "--in-place"}, &out, &errOut); code != 0 || errOut.Len() > 0 {
		t.Fatalf("weir migrate: exit %d\n%s", code, errOut.String())
	}
	migrated, err := os.ReadFile(filepath.Join(dir, "clusters", "production", "artifacts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(migrated), "apiVersion: source.weir.dev/v1\nkind: ArtifactGenerator") {
		t.Fatalf("artifacts.yaml not migrated:\n%s", migrated)
	}

	host := harness.StartGitHost(t, nil)
	repo := host.Publish(t, "fleet", dir, nil)
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fluxNamespace}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	// kubectl apply -k clusters/production
	harness.Apply(t, c, filepath.Join(repo.Dir, "clusters", "production"))

	infraArtifact := externalArtifact("infrastructure")
	appsArtifact := externalArtifact("apps")
	harness.WaitReady(t, c, infraArtifact, 3*time.Minute, nil)
	harness.WaitReady(t, c, appsArtifact, time.Minute, nil)
	infra := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: fluxNamespace, Name: "infrastructure"}}
	apps := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: fluxNamespace, Name: "apps"}}
	harness.WaitReady(t, c, infra, 3*time.Minute, appliedRevisionOf(infra, infraArtifact))
	harness.WaitReady(t, c, apps, 3*time.Minute, appliedRevisionOf(apps, appsArtifact))
	if got := configMapData(t, "apps", "platform")["cluster"]; got != "production" {
		t.Errorf("infrastructure's ConfigMap apps/platform: cluster %q", got)
	}
	if got := configMapData(t, "apps", "podinfo")["message"]; got != "Hello from production" {
		t.Errorf("apps' ConfigMap apps/podinfo: message %q", got)
	}
	harness.WaitReady(t, c, &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: fluxNamespace, Name: "fleet"}}, time.Minute, nil)
	infraBefore := infraArtifact.DeepCopy()
	infraApplied := infra.Status.LastAppliedRevision

	// A commit to apps/ only.
	repo.Write(t, "apps/podinfo/config.yaml", strings.Replace(repo.Read(t, "apps/podinfo/config.yaml"), "Hello from production", "Hello again", 1))
	commit := repo.CommitAndPush(t, "podinfo: a new message")
	harness.RequestReconcile(t, c, &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: fluxNamespace, Name: "fleet"}})
	harness.WaitReady(t, c, appsArtifact, 2*time.Minute, func() error {
		if got := appsArtifact.Status.Artifact.Metadata["originRevision"]; got != "main@sha1:"+commit {
			return fmt.Errorf("apps artifact from %q, want main@sha1:%s", got, commit)
		}
		return nil
	})
	harness.WaitReady(t, c, apps, 2*time.Minute, appliedRevisionOf(apps, appsArtifact))
	testenv.Eventually(t, time.Minute, func() error {
		if got := configMapData(t, "apps", "podinfo")["message"]; got != "Hello again" {
			return fmt.Errorf("apps/podinfo message %q", got)
		}
		return nil
	})
	// The generator's run that built apps from the commit built infrastructure too: once its
	// inventory records apps' new revision, infrastructure's ExternalArtifact is final.
	gen := &sourcev1.ArtifactGenerator{ObjectMeta: metav1.ObjectMeta{Namespace: fluxNamespace, Name: "fleet"}}
	harness.WaitReady(t, c, gen, time.Minute, func() error {
		for _, e := range gen.Status.Inventory {
			if e.Name == "apps" && e.Revision == appsArtifact.Status.Artifact.Revision {
				return nil
			}
		}
		return fmt.Errorf("inventory %+v", gen.Status.Inventory)
	})
	if err := c.Get(ctx, client.ObjectKeyFromObject(infraArtifact), infraArtifact); err != nil {
		t.Fatal(err)
	}
	if infraArtifact.ResourceVersion != infraBefore.ResourceVersion || infraArtifact.Status.Artifact.Revision != infraBefore.Status.Artifact.Revision {
		t.Errorf("infrastructure's ExternalArtifact changed with a commit to apps/ only: %s → %s", infraBefore.Status.Artifact.Revision, infraArtifact.Status.Artifact.Revision)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(infra), infra); err != nil {
		t.Fatal(err)
	}
	if infra.Status.LastAppliedRevision != infraApplied {
		t.Errorf("infrastructure applied %s after a commit to apps/ only (was %s)", infra.Status.LastAppliedRevision, infraApplied)
	}
}

func externalArtifact(name string) *sourcev1.ExternalArtifact {
	return &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Namespace: fluxNamespace, Name: name}}
}

// appliedRevisionOf is a check that ks applied ea's current revision.
func appliedRevisionOf(ks *kustomizev1.Kustomization, ea *sourcev1.ExternalArtifact) func() error {
	return func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ea), ea); err != nil {
			return err
		}
		if ea.Status.Artifact == nil || ks.Status.LastAppliedRevision != ea.Status.Artifact.Revision {
			return fmt.Errorf("%s applied %q, ExternalArtifact %s is at %+v", ks.Name, ks.Status.LastAppliedRevision, ea.Name, ea.Status.Artifact)
		}
		return nil
	}
}

// configMapData returns the data of ConfigMap namespace/name, nil when it is missing.
func configMapData(t *testing.T, namespace, name string) map[string]string {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, cm); err != nil {
		return nil
	}
	return cm.Data
}

// copyTree copies the regular files of src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
