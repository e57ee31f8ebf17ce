package controller

import (
	"bytes"
	"context"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
)

// TestGitRepositoryIgnoreRules: defaults, spec.ignore re-including a default, and .sourceignore.
func TestGitRepositoryIgnoreRules(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{
		"apps/a.yaml":          "a",
		"apps/.sourceignore":   "local-*.yaml\n",
		"apps/local-dev.yaml":  "dev",
		".github/workflows/ci": "ci",
		"logo.png":             "png",
		"docs/README.md":       "docs",
		"charts/x-1.0.0.tgz":   "tgz",
	})
	ignore := "docs/\n!logo.png\n"
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), func(o *sourcev1.GitRepository) { o.Spec.Ignore = &ignore })
	waitRevision(t, obj, "main@sha1:"+srv.Head(t, "org/app.git"))
	got := fetchFiles(t, obj.Status.Artifact)
	for _, want := range []string{"apps/a.yaml", "logo.png", "apps/.sourceignore"} {
		if _, ok := got[want]; !ok {
			t.Errorf("%s missing from the artifact", want)
		}
	}
	for _, gone := range []string{"apps/local-dev.yaml", ".github/workflows/ci", "docs/README.md", "charts/x-1.0.0.tgz", ".git/HEAD"} {
		if _, ok := got[gone]; ok {
			t.Errorf("%s must be ignored", gone)
		}
	}
}

// TestGitRepositorySparseCheckout: only the listed directories reach the artifact.
func TestGitRepositorySparseCheckout(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"apps/a.yaml": "a", "infra/i.yaml": "i", "root.yaml": "r"})
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), func(o *sourcev1.GitRepository) {
		o.Spec.SparseCheckout = []string{"apps"}
	})
	waitRevision(t, obj, "main@sha1:"+srv.Head(t, "org/app.git"))
	got := fetchFiles(t, obj.Status.Artifact)
	if _, ok := got["apps/a.yaml"]; !ok || len(got) != 1 {
		t.Errorf("artifact files %v, want only apps/a.yaml", got)
	}
}

// TestGitRepositoryInclude: another repository's artifact is copied in, and a new revision
// there produces a new artifact here without waiting for this object's interval.
func TestGitRepositoryInclude(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	shared := srv.NewRepo(t, "org/shared.git", "main", map[string]string{"base/cm.yaml": "v1"})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"app.yaml": "app"})
	sharedObj := createGitRepository(t, ns, "shared", srv.URL("org/shared.git"), nil)
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), func(o *sourcev1.GitRepository) {
		o.Spec.Include = []sourcev1.GitRepositoryInclude{{GitRepositoryRef: meta.LocalObjectReference{Name: "shared"}, FromPath: "base", ToPath: "vendor/base"}}
	})
	waitRevision(t, obj, "main@sha1:"+srv.Head(t, "org/app.git"))
	if got := fetchFiles(t, obj.Status.Artifact); got["vendor/base/cm.yaml"] != "v1" || got["app.yaml"] != "app" {
		t.Fatalf("artifact files %v", got)
	}
	digest := obj.Status.Artifact.Digest

	shared.Commit(map[string]string{"base/cm.yaml": "v2"}, "bump", nil)
	shared.Push()
	requestReconcile(t, sharedObj)
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		if obj.Status.Artifact.Digest == digest {
			return errString("the includer was not rebuilt")
		}
		return nil
	})
	if got := fetchFiles(t, obj.Status.Artifact); got["vendor/base/cm.yaml"] != "v2" {
		t.Fatalf("included content after the change: %v", got)
	}
	if len(obj.Status.IncludedArtifacts) != 1 || obj.Status.IncludedArtifacts[0].Revision != sharedObj.Status.Artifact.Revision {
		t.Errorf("includedArtifacts %+v", obj.Status.IncludedArtifacts)
	}
}

// TestGitRepositoryIncludeUnavailable: including a missing GitRepository waits, saying which.
func TestGitRepositoryIncludeUnavailable(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"app.yaml": "app"})
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), func(o *sourcev1.GitRepository) {
		o.Spec.Include = []sourcev1.GitRepositoryInclude{{GitRepositoryRef: meta.LocalObjectReference{Name: "missing"}}}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(obj, sourcev1.IncludeUnavailableCondition, metav1.ConditionTrue, meta.DependencyNotReadyReason, "'missing'"))
	testenv.Eventually(t, timeout, env.ObjectIn(obj, meta.ReadyCondition, metav1.ConditionFalse, meta.DependencyNotReadyReason, "'missing'"))
}

// TestGitRepositoryVerification: a signed HEAD verifies and is stored; an unsigned one never
// becomes the artifact.
func TestGitRepositoryVerification(t *testing.T) {
	ns := env.Namespace(t)
	key, err := openpgp.NewEntity("Weir", "", "signer@weir.dev", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := key.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	createSecret(t, ns, "keys", map[string][]byte{"author.asc": pub.Bytes()})

	srv := gittest.NewServer(t, gittest.Options{})
	repo := srv.NewRepo(t, "org/app.git", "main", map[string]string{"a.yaml": "a"})
	signed := repo.Commit(map[string]string{"a.yaml": "signed"}, "signed", key)
	repo.Push()
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), func(o *sourcev1.GitRepository) {
		o.Spec.Verification = &sourcev1.GitRepositoryVerification{Mode: sourcev1.ModeGitHEAD, SecretRef: meta.LocalObjectReference{Name: "keys"}}
	})
	waitRevision(t, obj, "main@sha1:"+signed)
	if err := testenv.CheckCondition(obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, "", "verified"); err != nil {
		t.Error(err)
	}

	repo.Commit(map[string]string{"a.yaml": "unsigned"}, "unsigned", nil)
	repo.Push()
	requestReconcile(t, obj)
	testenv.Eventually(t, timeout, env.ObjectIn(obj, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, sourcev1.VerificationFailedReason, "not signed"))
	testenv.Eventually(t, timeout, env.ObjectIn(obj, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.VerificationFailedReason, ""))
	if obj.Status.Artifact.Revision != "main@sha1:"+signed {
		t.Errorf("an unverified revision became the artifact: %s", obj.Status.Artifact.Revision)
	}
}
