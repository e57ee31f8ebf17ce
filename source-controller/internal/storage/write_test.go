package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weir.dev/pkg/artifact"
)

func TestArchiveWritesArtifact(t *testing.T) {
	s := newStorage(t, 2)
	src := sourceDir(t, map[string]string{"kustomization.yaml": "resources: [a.yaml]\n", "a.yaml": "kind: Pod\n"})
	a := s.NewArtifact("GitRepository", "ns", "app", "main@sha1:1", "1.tar.gz")
	before := time.Now().Add(-time.Second)

	must(t, s.Archive(&a, src, artifact.ArchiveOptions{}))

	b, err := os.ReadFile(filepath.Join(s.dir, a.Path))
	must(t, err)
	if a.Digest != digestOf(t, b) {
		t.Errorf("digest %s, file hashes to %s", a.Digest, digestOf(t, b))
	}
	if a.Size == nil || *a.Size != int64(len(b)) {
		t.Errorf("size %v, file has %d bytes", a.Size, len(b))
	}
	if a.LastUpdateTime.Time.Before(before) {
		t.Errorf("lastUpdateTime %v", a.LastUpdateTime)
	}
	if names := listDir(t, s, "gitrepository/ns/app"); len(names) != 1 || names[0] != "1.tar.gz" {
		t.Errorf("object directory holds %q, want only the artifact", names)
	}
	if !s.Exists(a) {
		t.Error("Exists is false")
	}
	must(t, s.Verify(a))

	// The artifact is the deterministic archive of the tree, and extracts to it.
	var want bytes.Buffer
	_, err = artifact.Archive(&want, src, artifact.ArchiveOptions{})
	must(t, err)
	if !bytes.Equal(b, want.Bytes()) {
		t.Error("stored bytes differ from artifact.Archive's")
	}
	var copied bytes.Buffer
	must(t, s.CopyTo(a, &copied))
	dst := t.TempDir()
	must(t, artifact.Extract(&copied, dst, artifact.Limits{}))
	if got, err := os.ReadFile(filepath.Join(dst, "a.yaml")); err != nil || string(got) != "kind: Pod\n" {
		t.Errorf("extracted a.yaml: %q %v", got, err)
	}
}

// failingReader returns some bytes, then an error.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("upstream broke")
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = 'x'
	}
	r.n -= n
	return n, nil
}

func TestFailedWriteLeavesNoTrace(t *testing.T) {
	s := newStorage(t, 2)
	a := s.NewArtifact("HelmRepository", "ns", "repo", "v1", "index.yaml")
	must(t, s.WriteFile(&a, strings.NewReader("v1 index\n")))
	good := a

	failures := map[string]func() error{
		"reader error": func() error {
			b := a
			return s.WriteFile(&b, &failingReader{n: 100 << 10}) // more than one buffer flushed
		},
		"missing source dir": func() error {
			b := a
			return s.Archive(&b, filepath.Join(t.TempDir(), "missing"), artifact.ArchiveOptions{})
		},
		"archive over its limit": func() error {
			b := a
			src := sourceDir(t, map[string]string{"a": "1", "b": "2", "c": "3"})
			return s.Archive(&b, src, artifact.ArchiveOptions{MaxFiles: 2})
		},
	}
	for name, fail := range failures {
		t.Run(name, func(t *testing.T) {
			if err := fail(); err == nil {
				t.Fatal("no error")
			}
			if names := listDir(t, s, "helmrepository/ns/repo"); len(names) != 1 || names[0] != "index.yaml" {
				t.Errorf("object directory holds %q", names)
			}
			must(t, s.Verify(good)) // the previous file is intact
		})
	}

	// A successful rewrite replaces the content in place.
	must(t, s.WriteFile(&a, strings.NewReader("v2 index\n")))
	var got bytes.Buffer
	must(t, s.CopyTo(a, &got))
	if got.String() != "v2 index\n" || a.Digest == good.Digest {
		t.Errorf("after rewrite: %q, digest %s", got.String(), a.Digest)
	}
	if err := s.Verify(good); err == nil {
		t.Error("the old digest still verifies")
	}
}

func TestVerify(t *testing.T) {
	s := newStorage(t, 2)
	a := s.NewArtifact("GitRepository", "ns", "app", "r", "a.tar.gz")
	must(t, s.WriteFile(&a, strings.NewReader("content")))
	must(t, s.Verify(a))

	must(t, os.WriteFile(filepath.Join(s.dir, a.Path), []byte("tampered"), 0o644))
	if err := s.Verify(a); err == nil || !strings.Contains(err.Error(), "digest mismatch: expected "+a.Digest) {
		t.Errorf("tampered: %v", err)
	}

	sized := a
	must(t, s.WriteFile(&sized, strings.NewReader("content")))
	n := *sized.Size + 1
	sized.Size = &n
	if err := s.Verify(sized); err == nil || !strings.Contains(err.Error(), "size mismatch") {
		t.Errorf("wrong size: %v", err)
	}

	noDigest := a
	noDigest.Digest = ""
	if err := s.Verify(noDigest); err == nil {
		t.Error("an artifact without digest verified")
	}

	missing := s.NewArtifact("GitRepository", "ns", "app", "r", "missing.tar.gz")
	missing.Digest = a.Digest
	if err := s.Verify(missing); err == nil || s.Exists(missing) {
		t.Errorf("missing file: Verify %v, Exists %v", err, s.Exists(missing))
	}
	if err := s.CopyTo(missing, io.Discard); err == nil {
		t.Error("CopyTo of a missing file succeeded")
	}

	// A directory at an artifact's path is not an artifact.
	dir := s.NewArtifact("GitRepository", "ns", "app", "r", "dir.tar.gz")
	must(t, os.MkdirAll(filepath.Join(s.dir, dir.Path), 0o755))
	if s.Exists(dir) {
		t.Error("Exists is true for a directory")
	}
}
