package controller

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
)

// TestGitRepositoryNewCommitNewArtifact: the first artifact, then a push and a reconcile
// request give a new revision, a NewArtifact event with the revision and commit message, and
// artifact bytes the consumers' fetcher verifies.
func TestGitRepositoryNewCommitNewArtifact(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{User: "git", Password: "s3cr3t-pass"})
	repo := srv.NewRepo(t, "org/app.git", "main", map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"})
	createSecret(t, ns, "creds", map[string][]byte{"username": []byte("git"), "password": []byte("s3cr3t-pass")})
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), func(o *sourcev1.GitRepository) {
		o.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
	})
	waitRevision(t, obj, "main@sha1:"+srv.Head(t, "org/app.git"))
	if got := fetchFiles(t, obj.Status.Artifact); got["deploy/app.yaml"] != "kind: ConfigMap\n" || len(got) != 1 {
		t.Fatalf("artifact files %v", got)
	}
	if err := testenv.CheckCondition(obj, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, "", obj.Status.Artifact.Revision); err != nil {
		t.Error(err)
	}

	c2 := repo.Commit(map[string]string{"deploy/app.yaml": "kind: Secret\n"}, "switch to a Secret\n\nlong body", nil)
	repo.Push()
	requestReconcile(t, obj)
	waitRevision(t, obj, "main@sha1:"+c2)
	if got := fetchFiles(t, obj.Status.Artifact); got["deploy/app.yaml"] != "kind: Secret\n" {
		t.Fatalf("artifact files after push %v", got)
	}
	testenv.Eventually(t, timeout, func() error {
		for _, ev := range eventSink.about(ns, "app") {
			if ev.Reason == sourcev1.NewArtifactReason && ev.Metadata[meta.RevisionEventKey] == "main@sha1:"+c2 &&
				strings.Contains(ev.Message, "switch to a Secret") && !strings.Contains(ev.Message, "long body") {
				return nil
			}
		}
		return errString("no NewArtifact event for the new revision")
	})
	assertNoSecret(t, obj, "s3cr3t-pass")
}

// TestGitRepositoryNoCloneWhenUnchanged: reconciling an unchanged repository lists its refs and
// fetches nothing.
func TestGitRepositoryNoCloneWhenUnchanged(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"a.yaml": "a"})
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), nil)
	waitRevision(t, obj, "main@sha1:"+srv.Head(t, "org/app.git"))
	digest := obj.Status.Artifact.Digest

	fetches, listings := srv.Fetches.Load(), srv.RefListings.Load()
	eventsBefore := len(eventSink.about(ns, "app"))
	requestReconcile(t, obj)
	requestReconcile(t, obj)
	if got := eventSink.about(ns, "app"); len(got) != eventsBefore {
		t.Errorf("a no-op reconcile sent events: %+v", got[eventsBefore:])
	}
	if got := srv.Fetches.Load(); got != fetches {
		t.Errorf("%d fetches for an unchanged repository, want 0", got-fetches)
	}
	if got := srv.RefListings.Load(); got < listings+2 {
		t.Errorf("%d ref listings, want one per reconcile", got-listings)
	}
	if obj.Status.Artifact.Digest != digest {
		t.Errorf("digest changed without a change")
	}

	// A spec change that alters the content (ignore rules) does rebuild.
	ignore := "*.yaml\n"
	patch := client.MergeFrom(obj.DeepCopy())
	obj.Spec.Ignore = &ignore
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		if obj.Status.ObservedIgnore == nil || obj.Status.Artifact.Digest == digest {
			return errString("artifact not rebuilt for the new ignore rules")
		}
		return nil
	})
	if got := fetchFiles(t, obj.Status.Artifact); len(got) != 0 {
		t.Errorf("ignored files in the artifact: %v", got)
	}
}

// TestGitRepositorySuspend: a suspended object is not reconciled but keeps observedGeneration current.
func TestGitRepositorySuspend(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	repo := srv.NewRepo(t, "org/app.git", "main", map[string]string{"a.yaml": "a"})
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), nil)
	first := "main@sha1:" + srv.Head(t, "org/app.git")
	waitRevision(t, obj, first)

	patch := client.MergeFrom(obj.DeepCopy())
	obj.Spec.Suspend = true
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
	repo.Commit(map[string]string{"a.yaml": "b"}, "second", nil)
	repo.Push()
	requestReconcile(t, obj)
	if obj.Status.ObservedGeneration != obj.Generation {
		t.Errorf("suspended: observedGeneration %d, generation %d", obj.Status.ObservedGeneration, obj.Generation)
	}
	if obj.Status.Artifact.Revision != first {
		t.Errorf("suspended object moved to %s", obj.Status.Artifact.Revision)
	}
}

// TestGitRepositoryDeletionRemovesArtifacts: the finalizer removes the object's storage.
func TestGitRepositoryDeletionRemovesArtifacts(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"a.yaml": "a"})
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), nil)
	waitRevision(t, obj, "main@sha1:"+srv.Head(t, "org/app.git"))
	if !testStorage.Exists(*obj.Status.Artifact) {
		t.Fatal("artifact not in storage")
	}
	a := *obj.Status.Artifact
	if err := env.Client.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if err == nil {
			return errString("object still exists")
		}
		return client.IgnoreNotFound(err)
	})
	if testStorage.Exists(a) {
		t.Error("artifact still in storage after deletion")
	}
	if _, err := os.Stat(filepath.Join(testStorage.Root(), "gitrepository", ns, "app")); err == nil {
		t.Error("object directory still in storage")
	}
}

// assertNoSecret fails if secret appears in obj's status or in any event about it.
func assertNoSecret(t *testing.T, obj *sourcev1.GitRepository, secret string) {
	t.Helper()
	b, _ := json.Marshal(obj.Status)
	if strings.Contains(string(b), secret) {
		t.Errorf("status contains the secret: %s", b)
	}
	for _, ev := range env.Events(t, obj.Namespace, obj.Name) {
		if strings.Contains(ev.Message, secret) {
			t.Errorf("event %s contains the secret: %s", ev.Reason, ev.Message)
		}
	}
	if ev, ok := eventSink.mentioning(secret); ok {
		t.Errorf("an event sent to notification-controller contains the secret: %+v", ev)
	}
	if logSink.contains(secret) {
		t.Errorf("the controller's log contains the secret")
	}
}

type errString string

func (e errString) Error() string { return string(e) }
