package storage

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTamperedFileIsNeverServed: a stored file changed on disk, with the same size and its
// modification time put back, fails Verify and is refused by the server, which serves it again
// once Storage rewrites it. A file from before the process started is served until Verify is
// called with its artifact, and refused from then on when it differs.
func TestTamperedFileIsNeverServed(t *testing.T) {
	s := newStorage(t, 2)
	srv := serve(t, s)
	a := s.NewArtifact("HelmChart", "ns", "chart", "1.0.0", "chart-1.0.0.tgz")
	must(t, s.WriteFile(&a, strings.NewReader("good chart bytes")))
	p := filepath.Join(s.dir, filepath.FromSlash(a.Path))
	fi, err := os.Stat(p)
	must(t, err)

	// Served once, so the server's cache knows the good file.
	if resp, body := rawRequest(t, srv, "GET", "/"+a.Path); resp.StatusCode != http.StatusOK || string(body) != "good chart bytes" {
		t.Fatalf("before tampering: %s %q", resp.Status, body)
	}
	must(t, os.WriteFile(p, []byte("evil chart bytes"), 0o644))
	must(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))

	if err := s.Verify(a); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("Verify: %v, want ErrDigestMismatch", err)
	}
	resp, body := rawRequest(t, srv, "GET", "/"+a.Path)
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "evil") {
		t.Errorf("tampered: %s %q, want 500 without the file", resp.Status, body)
	}

	b := a
	must(t, s.WriteFile(&b, strings.NewReader("good chart bytes")))
	if resp, body := rawRequest(t, srv, "GET", "/"+a.Path); resp.StatusCode != http.StatusOK || string(body) != "good chart bytes" {
		t.Errorf("rewritten: %s %q", resp.Status, body)
	}

	// A reader with a stale digest is refused, and does not make the server refuse the file.
	stale := b
	stale.Digest = digestOf(t, []byte("older chart bytes"))
	if _, err := s.OpenVerified(stale); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("OpenVerified with a stale digest: %v, want ErrDigestMismatch", err)
	}
	if resp, body := rawRequest(t, srv, "GET", "/"+a.Path); resp.StatusCode != http.StatusOK || string(body) != "good chart bytes" {
		t.Errorf("after a stale read: %s %q", resp.Status, body)
	}

	// A storage opened afresh over the tampered file serves it until Verify says otherwise.
	must(t, os.WriteFile(p, []byte("evil chart bytes"), 0o644))
	s2, err := New(s.dir, "storage", 2)
	must(t, err)
	t.Cleanup(func() { s2.Close() })
	srv2 := serve(t, s2)
	if err := s2.Verify(b); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("Verify after restart: %v, want ErrDigestMismatch", err)
	}
	if resp, body := rawRequest(t, srv2, "GET", "/"+a.Path); resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "evil") {
		t.Errorf("tampered after restart: %s %q, want 500 without the file", resp.Status, body)
	}
}
