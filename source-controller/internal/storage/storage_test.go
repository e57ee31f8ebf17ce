package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weir.dev/api/meta"
	"weir.dev/pkg/artifact"
)

func newStorage(t *testing.T, retention int) *Storage {
	t.Helper()
	s, err := New(filepath.Join(t.TempDir(), "storage"), "source-controller.weir-system.svc:9090", retention)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sourceDir writes a small source tree and returns its path.
func sourceDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

// listDir returns the names in dir under the storage root.
func listDir(t *testing.T, s *Storage, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.dir, filepath.FromSlash(dir)))
	must(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestNew(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	s, err := New(root, "localhost:9090", 0)
	must(t, err)
	defer s.Close()
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		t.Errorf("root not created: %v", err)
	}
	if s.retention != DefaultRetention {
		t.Errorf("retention %d, want the default %d", s.retention, DefaultRetention)
	}
	for _, host := range []string{"", "http://x:1", "x:1/path", ":9090", "user@x:1"} {
		if _, err := New(t.TempDir(), host, 1); err == nil {
			t.Errorf("advertised host %q accepted", host)
		}
	}
	if _, err := New(t.TempDir(), "x:1", -1); err == nil {
		t.Error("negative retention accepted")
	}
}

func TestNewArtifact(t *testing.T) {
	s := newStorage(t, 2)
	a := s.NewArtifact("GitRepository", "team-a", "podinfo", "main@sha1:abc", "0a1b2c.tar.gz")
	want := meta.Artifact{
		Path:     "gitrepository/team-a/podinfo/0a1b2c.tar.gz",
		URL:      "http://source-controller.weir-system.svc:9090/gitrepository/team-a/podinfo/0a1b2c.tar.gz",
		Revision: "main@sha1:abc",
	}
	if a.Path != want.Path || a.URL != want.URL || a.Revision != want.Revision || a.Digest != "" || a.Size != nil {
		t.Errorf("got %+v, want %+v", a, want)
	}
	a.URL = "http://old-host:1/x"
	s.SetArtifactURL(&a)
	if a.URL != want.URL {
		t.Errorf("SetArtifactURL: %s", a.URL)
	}
}

func TestPathConfinement(t *testing.T) {
	s := newStorage(t, 2)
	src := sourceDir(t, map[string]string{"a.yaml": "a"})
	bad := []string{
		"/etc/x/y/z",
		"../a/b/c",
		"a/../b/c/d",
		"a/b/../c",
		"a/b/c",
		"a/b/c/d/e",
		"a//b/c",
		"a/b/c/.hidden",
		"a/b/c/.tmp-abc",
		"a/./b/c",
		"",
	}
	for _, p := range bad {
		a := meta.Artifact{Path: p, Digest: "sha256:" + strings.Repeat("0", 64)}
		if err := s.Archive(&a, src, artifact.ArchiveOptions{}); err == nil || !strings.Contains(err.Error(), "invalid artifact path") {
			t.Errorf("Archive %q: %v", p, err)
		}
		if err := s.WriteFile(&a, strings.NewReader("x")); err == nil {
			t.Errorf("WriteFile %q succeeded", p)
		}
		if _, err := s.Open(a); err == nil {
			t.Errorf("Open %q succeeded", p)
		}
		if err := s.Verify(a); err == nil {
			t.Errorf("Verify %q succeeded", p)
		}
		if s.Exists(a) {
			t.Errorf("Exists %q", p)
		}
		if _, err := s.GarbageCollect(a); err == nil {
			t.Errorf("GarbageCollect %q succeeded", p)
		}
	}
	for _, seg := range [][3]string{{"GitRepository", "..", "x"}, {"GitRepository", "ns", "a/b"}, {"", "ns", "n"}, {"k", ".", "n"}} {
		if err := s.RemoveAll(seg[0], seg[1], seg[2]); err == nil {
			t.Errorf("RemoveAll %q succeeded", seg)
		}
	}
	// Nothing was written anywhere.
	if names := listDir(t, s, "."); len(names) != 0 {
		t.Errorf("root holds %q", names)
	}
}

func TestSymlinksOutOfTheRoot(t *testing.T) {
	s := newStorage(t, 1)
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "keep.tar.gz"), []byte("outside"), 0o644))
	must(t, os.MkdirAll(filepath.Join(outside, "name"), 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "name", "old.tar.gz"), []byte("outside"), 0o644))
	must(t, os.MkdirAll(filepath.Join(s.dir, "gitrepository"), 0o755))
	must(t, os.MkdirAll(filepath.Join(s.dir, "helmchart"), 0o755))
	rel, err := filepath.Rel(filepath.Join(s.dir, "helmchart"), outside)
	must(t, err)
	must(t, os.Symlink(outside, filepath.Join(s.dir, "gitrepository", "abs")))
	must(t, os.Symlink(rel, filepath.Join(s.dir, "helmchart", "rel")))

	for _, kind := range []string{"gitrepository/abs", "helmchart/rel"} {
		a := meta.Artifact{Path: kind + "/name/new.tar.gz"}
		if err := s.WriteFile(&a, strings.NewReader("x")); err == nil {
			t.Errorf("%s: wrote through a symlink out of the root", kind)
		}
		if err := s.Archive(&a, sourceDir(t, map[string]string{"a": "a"}), artifact.ArchiveOptions{}); err == nil {
			t.Errorf("%s: archived through a symlink out of the root", kind)
		}
		k, ns, _ := strings.Cut(kind, "/")
		if s.Exists(meta.Artifact{Path: kind + "/name/old.tar.gz"}) {
			t.Errorf("%s: Exists sees a file outside the root", kind)
		}
		if _, err := s.GarbageCollect(meta.Artifact{Path: kind + "/name/new.tar.gz"}); err == nil {
			t.Errorf("%s: collected through a symlink out of the root", kind)
		}
		if err := s.RemoveAll(k, ns, "name"); err == nil {
			t.Errorf("%s: RemoveAll through a symlink out of the root succeeded", kind)
		}
	}
	for _, p := range []string{"keep.tar.gz", "name/old.tar.gz"} {
		if b, err := os.ReadFile(filepath.Join(outside, p)); err != nil || string(b) != "outside" {
			t.Errorf("%s outside the root changed: %q %v", p, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "name", "new.tar.gz")); err == nil {
		t.Error("a file was written outside the root")
	}
}

func TestLock(t *testing.T) {
	s := newStorage(t, 2)
	a := s.NewArtifact("GitRepository", "ns", "one", "r", "a.tar.gz")
	b := s.NewArtifact("GitRepository", "ns", "one", "r", "b.tar.gz") // same object
	other := s.NewArtifact("GitRepository", "ns", "two", "r", "a.tar.gz")

	unlock := s.Lock(a)
	acquired, released := make(chan struct{}), make(chan struct{})
	go func() {
		u := s.Lock(b)
		close(acquired)
		u()
		close(released)
	}()
	done := make(chan struct{})
	go func() { // another object is not blocked
		s.Lock(other)()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("locking another object blocked")
	}
	select {
	case <-acquired:
		t.Fatal("a second lock of the same object did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	unlock() // harmless
	select {
	case <-acquired:
	case <-time.After(5 * time.Second):
		t.Fatal("unlock did not release the waiter")
	}
	<-released
	s.locksMu.Lock()
	n := len(s.locks)
	s.locksMu.Unlock()
	if n != 0 {
		t.Errorf("%d locks left in the map", n)
	}
}

// digestOf returns the digest of b.
func digestOf(t *testing.T, b []byte) string {
	t.Helper()
	d, _, err := artifact.Digest(bytes.NewReader(b))
	must(t, err)
	return d
}
