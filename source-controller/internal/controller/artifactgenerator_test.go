package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
)

// createGenerator creates an ArtifactGenerator reading the GitRepository repo as @repo.
func createGenerator(t *testing.T, ns, name, repo string, artifacts ...sourcev1.OutputArtifact) *sourcev1.ArtifactGenerator {
	t.Helper()
	obj := &sourcev1.ArtifactGenerator{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.ArtifactGeneratorSpec{
			Sources:   []sourcev1.ArtifactSourceReference{{Alias: "repo", Kind: sourcev1.GitRepositoryKind, Name: repo}},
			Artifacts: artifacts,
		},
	}
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// split is an output artifact with one copy operation.
func split(name, from, to string) sourcev1.OutputArtifact {
	return sourcev1.OutputArtifact{Name: name, OriginRevision: "@repo", Copy: []sourcev1.CopyOperation{{From: from, To: to}}}
}

// waitExternal waits until the ExternalArtifact name is Ready with an artifact that passes check.
func waitExternal(t *testing.T, ns, name string, check func(*meta.Artifact) error) *sourcev1.ExternalArtifact {
	t.Helper()
	ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(ea, meta.ReadyCondition, metav1.ConditionTrue, "", "")(); err != nil {
			return err
		}
		if ea.Status.Artifact == nil {
			return fmt.Errorf("ExternalArtifact %s has no artifact", name)
		}
		return check(ea.Status.Artifact)
	})
	return ea
}

// originIs checks the artifact's origin revision.
func originIs(rev string) func(*meta.Artifact) error {
	return func(a *meta.Artifact) error {
		if got := a.Metadata["originRevision"]; got != rev {
			return fmt.Errorf("originRevision %q, want %q", got, rev)
		}
		return nil
	}
}

// TestArtifactGeneratorSplit: one repository split into apps/ and infrastructure/ artifacts
// with Flux's copy rules; a commit that changes only apps/ gives apps a new revision and
// leaves infrastructure's ExternalArtifact exactly as it was (revision, digest, update time,
// resourceVersion), which is what keeps its consumers still.
func TestArtifactGeneratorSplit(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	repo := srv.NewRepo(t, "org/fleet.git", "main", map[string]string{
		"apps/podinfo/deploy.yaml":        "kind: Deployment\n",
		"apps/podinfo/README.md":          "docs",
		"apps/kustomization.yaml":         "resources: [podinfo/deploy.yaml]\n",
		"infrastructure/controllers.yaml": "kind: Namespace\n",
		"infrastructure/testdata/x.yaml":  "x",
		"clusters/prod/flux.yaml":         "kind: Kustomization\n",
	})
	git := createGitRepository(t, ns, "fleet", srv.URL("org/fleet.git"), nil)
	commit1 := "main@sha1:" + srv.Head(t, "org/fleet.git")
	gen := createGenerator(t, ns, "fleet", "fleet",
		sourcev1.OutputArtifact{Name: "apps", OriginRevision: "@repo", Copy: []sourcev1.CopyOperation{
			{From: "@repo/apps/**", To: "@artifact/", Exclude: []string{"*.md"}},
		}},
		sourcev1.OutputArtifact{Name: "infrastructure", OriginRevision: "@repo", Copy: []sourcev1.CopyOperation{
			{From: "@repo/infrastructure/", To: "@artifact/"},
			{From: "@repo/clusters/prod/flux.yaml", To: "@artifact/cluster.yaml"},
			{From: "@repo/infrastructure/**", To: "@artifact/flat/", Exclude: []string{"**/testdata/**"}},
		}},
	)

	apps1 := waitExternal(t, ns, "apps", originIs(commit1))
	infra1 := waitExternal(t, ns, "infrastructure", originIs(commit1))
	testenv.Eventually(t, timeout, env.ObjectIn(gen, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, "generated 2 artifact(s)"))

	if got := fetchFiles(t, apps1.Status.Artifact); len(got) != 2 || got["podinfo/deploy.yaml"] == "" || got["kustomization.yaml"] == "" {
		t.Errorf("apps artifact files %v, want podinfo/deploy.yaml and kustomization.yaml (README.md excluded)", keys(got))
	}
	wantInfra := []string{"cluster.yaml", "flat/controllers.yaml", "infrastructure/controllers.yaml", "infrastructure/testdata/x.yaml"}
	if got := keys(fetchFiles(t, infra1.Status.Artifact)); strings.Join(got, ",") != strings.Join(wantInfra, ",") {
		t.Errorf("infrastructure artifact files %v, want %v", got, wantInfra)
	}
	if !strings.HasPrefix(apps1.Status.Artifact.Revision, "latest@sha256:") {
		t.Errorf("apps revision %q, want latest@sha256:<content hash>", apps1.Status.Artifact.Revision)
	}
	if !metav1.IsControlledBy(apps1, gen) || apps1.Spec.SourceRef == nil || apps1.Spec.SourceRef.Name != "fleet" {
		t.Errorf("apps ExternalArtifact is not owned by the generator: %+v %+v", apps1.OwnerReferences, apps1.Spec.SourceRef)
	}

	// A commit to apps/ only.
	repo.Commit(map[string]string{"apps/podinfo/deploy.yaml": "kind: Deployment\nspec: {replicas: 2}\n"}, "scale podinfo", nil)
	repo.Push()
	requestReconcile(t, git)
	commit2 := "main@sha1:" + srv.Head(t, "org/fleet.git")
	waitRevision(t, git, commit2)
	apps2 := waitExternal(t, ns, "apps", originIs(commit2))
	if apps2.Status.Artifact.Revision == apps1.Status.Artifact.Revision || apps2.Status.Artifact.Digest == apps1.Status.Artifact.Digest {
		t.Errorf("apps artifact did not change: %s", apps2.Status.Artifact.Revision)
	}
	// Once the generator's inventory records apps' new revision, the run that built it from
	// commit2 has finished, infrastructure included.
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(gen), gen); err != nil {
			return err
		}
		for _, e := range gen.Status.Inventory {
			if e.Name == "apps" && e.Revision == apps2.Status.Artifact.Revision {
				return nil
			}
		}
		return fmt.Errorf("inventory %+v does not have apps at %s yet", gen.Status.Inventory, apps2.Status.Artifact.Revision)
	})
	infra2 := &sourcev1.ExternalArtifact{}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(infra1), infra2); err != nil {
		t.Fatal(err)
	}
	if infra2.ResourceVersion != infra1.ResourceVersion {
		t.Errorf("infrastructure ExternalArtifact was written (resourceVersion %s → %s): artifact %+v → %+v",
			infra1.ResourceVersion, infra2.ResourceVersion, infra1.Status.Artifact, infra2.Status.Artifact)
	}
	if a, b := infra1.Status.Artifact, infra2.Status.Artifact; a.Revision != b.Revision || a.Digest != b.Digest || !a.LastUpdateTime.Equal(&b.LastUpdateTime) {
		t.Errorf("infrastructure artifact changed: %+v → %+v", a, b)
	}
}

// TestArtifactGeneratorErrors: a copy rule that matches nothing, an unknown alias and a source
// that is not ready each make the generator Ready=False with a specific reason naming the
// artifact and the rule.
func TestArtifactGeneratorErrors(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/fleet.git", "main", map[string]string{"apps/a.yaml": "a"})
	git := createGitRepository(t, ns, "fleet", srv.URL("org/fleet.git"), nil)
	waitRevision(t, git, "main@sha1:"+srv.Head(t, "org/fleet.git"))

	t.Run("no match", func(t *testing.T) {
		gen := createGenerator(t, ns, "nomatch", "fleet",
			split("nomatch-ok", "@repo/apps/**", "@artifact/"),
			split("nomatch-bad", "@repo/infra/**", "@artifact/"))
		waitGeneratorFailure(t, gen, sourcev1.CopyNoMatchReason, "artifact 'nomatch-bad': spec.artifacts[name=nomatch-bad].copy[0] (from '@repo/infra/**' to '@artifact/'): '@repo/infra/**' matches no file", true)
		testenv.Eventually(t, timeout, env.ObjectIn(gen, sourcev1.BuildFailedCondition, metav1.ConditionTrue, sourcev1.CopyNoMatchReason, "nomatch-bad"))
		// The artifact that builds is published all the same.
		waitExternal(t, ns, "nomatch-ok", func(*meta.Artifact) error { return nil })
	})
	t.Run("unknown alias", func(t *testing.T) {
		gen := createGenerator(t, ns, "alias", "fleet", split("alias-a", "@nope/apps/**", "@artifact/"))
		waitGeneratorFailure(t, gen, sourcev1.UnknownAliasReason, "artifact 'alias-a': copy[0].from '@nope/apps/**': alias '@nope' is not in spec.sources", true)
	})
	t.Run("ownership conflict", func(t *testing.T) {
		if err := env.Client.Create(context.Background(), &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken"}}); err != nil {
			t.Fatal(err)
		}
		gen := createGenerator(t, ns, "taker", "fleet", split("taken", "@repo/apps/**", "@artifact/"))
		waitGeneratorFailure(t, gen, sourcev1.OwnershipConflictReason, "artifact 'taken': ExternalArtifact '"+ns+"/taken' already exists and belongs to no ArtifactGenerator", true)
	})
	t.Run("source not ready", func(t *testing.T) {
		gen := createGenerator(t, ns, "missing", "absent", split("missing-a", "@repo/apps/**", "@artifact/"))
		waitGeneratorFailure(t, gen, sourcev1.SourceNotReadyReason, "source GitRepository '"+ns+"/absent' (@repo) is not found; waiting to generate 'missing-a'", false)
		testenv.Eventually(t, timeout, env.ObjectIn(gen, sourcev1.SourceUnavailableCondition, metav1.ConditionTrue, sourcev1.SourceNotReadyReason, "absent"))
	})
}

// TestArtifactGeneratorPrune: an artifact dropped from spec.artifacts loses its ExternalArtifact
// and stored files; deleting the generator deletes the rest.
func TestArtifactGeneratorPrune(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/fleet.git", "main", map[string]string{"apps/a.yaml": "a", "infra/i.yaml": "i"})
	createGitRepository(t, ns, "fleet", srv.URL("org/fleet.git"), nil)
	gen := createGenerator(t, ns, "fleet", "fleet", split("p-apps", "@repo/apps/**", "@artifact/"), split("p-infra", "@repo/infra/**", "@artifact/"))
	infra := waitExternal(t, ns, "p-infra", func(*meta.Artifact) error { return nil })
	waitExternal(t, ns, "p-apps", func(*meta.Artifact) error { return nil })

	patch := client.MergeFrom(gen.DeepCopy())
	gen.Spec.Artifacts = gen.Spec.Artifacts[:1]
	if err := env.Client.Patch(context.Background(), gen, patch); err != nil {
		t.Fatal(err)
	}
	gone := func(name string) func() error {
		return func() error {
			err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &sourcev1.ExternalArtifact{})
			if client.IgnoreNotFound(err) != nil {
				return err
			}
			if err == nil {
				return fmt.Errorf("ExternalArtifact %s still exists", name)
			}
			return nil
		}
	}
	testenv.Eventually(t, timeout, gone("p-infra"))
	if testStorage.Exists(*infra.Status.Artifact) {
		t.Errorf("the dropped artifact's file %s is still stored", infra.Status.Artifact.Path)
	}
	if err := env.Client.Delete(context.Background(), gen); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, gone("p-apps"))
}

// waitGeneratorFailure waits until gen is Ready=False with reason and a message containing
// msg, and Stalled (when stalled) or Reconciling.
func waitGeneratorFailure(t *testing.T, gen *sourcev1.ArtifactGenerator, reason, msg string, stalled bool) {
	t.Helper()
	testenv.Eventually(t, timeout, env.ObjectIn(gen, meta.ReadyCondition, metav1.ConditionFalse, reason, msg))
	cond := meta.ReconcilingCondition
	if stalled {
		cond = meta.StalledCondition
	}
	if err := testenv.CheckCondition(gen, cond, metav1.ConditionTrue, "", ""); err != nil {
		t.Error(err)
	}
}

// keys returns m's keys, sorted.
func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
