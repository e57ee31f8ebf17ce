package controller

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/testenv"
)

const timeout = 30 * time.Second

// createGitRepository creates a GitRepository for url with a 10m interval, changed by mutate.
func createGitRepository(t *testing.T, ns, name, url string, mutate func(*sourcev1.GitRepository)) *sourcev1.GitRepository {
	t.Helper()
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.GitRepositorySpec{
			URL:      url,
			Interval: metav1.Duration{Duration: 10 * time.Minute},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// createSecret creates a Secret with data.
func createSecret(t *testing.T, ns, name string, data map[string][]byte) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// waitRevision waits until obj is Ready with an artifact whose revision is rev.
func waitRevision(t *testing.T, obj *sourcev1.GitRepository, rev string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(obj, meta.ReadyCondition, metav1.ConditionTrue, "", "")(); err != nil {
			return err
		}
		if a := obj.Status.Artifact; a == nil || a.Revision != rev {
			return fmt.Errorf("artifact %+v, want revision %s", obj.Status.Artifact, rev)
		}
		if obj.Status.ObservedGeneration != obj.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", obj.Status.ObservedGeneration, obj.Generation)
		}
		return nil
	})
	if err := testenv.CheckKstatus(obj); err != nil {
		t.Error(err)
	}
}

// requestReconcile sets a new reconcile-request token and waits until the controller handled it.
func requestReconcile(t *testing.T, obj *sourcev1.GitRepository) {
	t.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	patch := client.MergeFrom(obj.DeepCopy())
	if obj.Annotations == nil {
		obj.Annotations = map[string]string{}
	}
	obj.Annotations[meta.ReconcileRequestAnnotation] = token
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		if obj.Status.LastHandledReconcileAt != token {
			return fmt.Errorf("lastHandledReconcileAt %q, want %q", obj.Status.LastHandledReconcileAt, token)
		}
		return nil
	})
}

// fetchFiles downloads the artifact the way consumers do and returns its files' contents.
func fetchFiles(t *testing.T, a *meta.Artifact) map[string]string {
	t.Helper()
	dir := t.TempDir()
	f := &artifact.Fetcher{AllowedHost: artifactHost, Retries: 1}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := f.Fetch(ctx, a.URL, a.Digest, dir); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
