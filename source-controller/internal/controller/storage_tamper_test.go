package controller

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
	"weir.dev/source-controller/internal/helmtest"
)

// tamper replaces a stored artifact's file with data, keeping its modification time.
func tamper(t *testing.T, a *meta.Artifact, data []byte) {
	t.Helper()
	p := filepath.Join(testStorage.Root(), filepath.FromSlash(a.Path))
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// assertNotServed fails when the artifact server answers a's URL with data.
func assertNotServed(t *testing.T, a *meta.Artifact, data []byte) {
	t.Helper()
	resp, err := http.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if bytes.Equal(body, data) || resp.StatusCode == http.StatusOK {
		t.Errorf("GET %s after tampering: %s, served the tampered bytes: %v", a.Path, resp.Status, bytes.Equal(body, data))
	}
}

// waitDigestMismatchEvent waits for the warning event that says obj's stored file was tampered with.
func waitDigestMismatchEvent(t *testing.T, obj client.Object, path string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		for _, ev := range env.Events(t, obj.GetNamespace(), obj.GetName()) {
			if ev.Type == corev1.EventTypeWarning && ev.Reason == sourcev1.ArtifactDigestMismatchReason && strings.Contains(ev.Message, path) {
				return nil
			}
		}
		return fmt.Errorf("no %s event naming %s", sourcev1.ArtifactDigestMismatchReason, path)
	})
}

// TestTamperedHelmArtifactsAreStoredAgain: a stored index and a stored chart changed on disk
// (same size, same modification time) are never served; the next reconcile of each detects
// the change, says so in an event and stores the good file again.
func TestTamperedHelmArtifactsAreStoredAgain(t *testing.T) {
	ns := env.Namespace(t)
	repo := helmtest.NewRepo(t, helmtest.RepoOptions{})
	publish(t, repo, helmtest.Chart{Name: "app", Version: "1.0.0"})
	hr := createHelmRepository(t, ns, "charts", repo.URL, nil)
	index := waitArtifact(t, hr, func(string) error { return nil })
	hc := createHelmChart(t, ns, "app", sourcev1.HelmRepositoryKind, "charts", "app", nil)
	chartArtifact := waitArtifact(t, hc, revisionIs("1.0.0"))
	goodChart := fetchRaw(t, chartArtifact)
	goodIndex := fetchRaw(t, index)

	for _, tc := range []struct {
		name string
		obj  artifactSource
		a    *meta.Artifact
		good []byte
	}{{"chart", hc, chartArtifact, goodChart}, {"index", hr, index, goodIndex}} {
		t.Run(tc.name, func(t *testing.T) {
			evil := bytes.Repeat([]byte("x"), len(tc.good))
			tamper(t, tc.a, evil)
			assertNotServed(t, tc.a, evil)
			requestReconcileOf(t, tc.obj)
			waitDigestMismatchEvent(t, tc.obj, tc.a.Path)
			if got := fetchRaw(t, tc.a); !bytes.Equal(got, tc.good) {
				t.Errorf("after the reconcile the server returns other bytes than the good file")
			}
		})
	}
}

// TestTamperedSourceIsNeverBuiltFrom: a GitRepository's stored artifact replaced on disk by a
// valid archive of another chart version is refused by a HelmChart built from it and by the
// artifact server; the GitRepository's next reconcile stores the good artifact again, and the
// chart is built from that.
func TestTamperedSourceIsNeverBuiltFrom(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/charts.git", "main", chartFiles(t, "charts/app/", helmtest.Chart{Name: "app", Version: "1.0.0"}))
	gr := createGitRepository(t, ns, "charts", srv.URL("org/charts.git"), nil)
	waitRevision(t, gr, "main@sha1:"+srv.Head(t, "org/charts.git"))
	good := *gr.Status.Artifact

	// A valid artifact of the same chart at another version.
	dir := t.TempDir()
	for name, content := range chartFiles(t, "charts/app/", helmtest.Chart{Name: "app", Version: "6.6.6"}) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var evil bytes.Buffer
	if _, err := artifact.Archive(&evil, dir, artifact.ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}
	tamper(t, &good, evil.Bytes())
	assertNotServed(t, &good, evil.Bytes())

	hc := createHelmChart(t, ns, "app", sourcev1.GitRepositoryKind, "charts", "charts/app", nil)
	waitFailure(t, hc, meta.ArtifactFailedReason, "digest mismatch", false)
	if hc.Status.Artifact != nil {
		t.Fatalf("a chart was built from the tampered artifact: %+v", hc.Status.Artifact)
	}

	requestReconcile(t, gr)
	waitDigestMismatchEvent(t, gr, good.Path)
	requestReconcileOf(t, hc)
	if a := waitArtifact(t, hc, func(string) error { return nil }); a.Revision != "1.0.0" {
		t.Errorf("chart built at version %s, want 1.0.0", a.Revision)
	}
	fetchRaw(t, &good)
}
