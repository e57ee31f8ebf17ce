package storage

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"weir.dev/api/meta"
	"weir.dev/pkg/artifact"
)

// serve starts the artifact server for s.
func serve(t *testing.T, s *Storage) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// rawRequest sends target exactly as given (no client-side cleaning or escaping) and returns
// the response with its body read.
func rawRequest(t *testing.T, srv *httptest.Server, method, target string, header ...string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	must(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := method + " " + target + " HTTP/1.1\r\nHost: storage\r\nConnection: close\r\n"
	for _, h := range header {
		req += h + "\r\n"
	}
	_, err = io.WriteString(conn, req+"\r\n")
	must(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp, body
}

func TestServerServesStoredBytes(t *testing.T) {
	s := newStorage(t, 2)
	srv := serve(t, s)
	a := s.NewArtifact("GitRepository", "ns", "app", "r", "abc.tar.gz")
	must(t, s.Archive(&a, sourceDir(t, map[string]string{"a.yaml": "a: 1\n"}), artifact.ArchiveOptions{}))
	idx := s.NewArtifact("HelmRepository", "ns", "repo", "r", "index.yaml")
	must(t, s.WriteFile(&idx, strings.NewReader("apiVersion: v1\nentries: {}\n")))

	for _, tc := range []struct {
		a           meta.Artifact
		contentType string
	}{{a, "application/gzip"}, {idx, "application/octet-stream"}} {
		resp, body := rawRequest(t, srv, "GET", "/"+tc.a.Path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", tc.a.Path, resp.Status)
		}
		if got := digestOf(t, body); got != tc.a.Digest {
			t.Errorf("%s: served bytes hash to %s, artifact digest %s", tc.a.Path, got, tc.a.Digest)
		}
		h := resp.Header
		if h.Get("Content-Length") != strconv.FormatInt(*tc.a.Size, 10) {
			t.Errorf("%s: Content-Length %q, size %d", tc.a.Path, h.Get("Content-Length"), *tc.a.Size)
		}
		if h.Get("ETag") != `"`+tc.a.Digest+`"` {
			t.Errorf("%s: ETag %q", tc.a.Path, h.Get("ETag"))
		}
		if h.Get("Content-Type") != tc.contentType || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: Content-Type %q, X-Content-Type-Options %q", tc.a.Path, h.Get("Content-Type"), h.Get("X-Content-Type-Options"))
		}
	}

	// The URL the artifact advertises, on the test server's address, fetches and verifies.
	f := &artifact.Fetcher{AllowedHost: srv.Listener.Addr().String()}
	u := strings.Replace(a.URL, "source-controller.weir-system.svc:9090", f.AllowedHost, 1)
	dst := t.TempDir()
	must(t, f.Fetch(t.Context(), u, a.Digest, dst))
	if b, err := os.ReadFile(filepath.Join(dst, "a.yaml")); err != nil || string(b) != "a: 1\n" {
		t.Errorf("fetched a.yaml: %q %v", b, err)
	}

	resp, body := rawRequest(t, srv, "HEAD", "/"+a.Path)
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Length") != strconv.FormatInt(*a.Size, 10) {
		t.Errorf("HEAD: %s, %d body bytes, Content-Length %q", resp.Status, len(body), resp.Header.Get("Content-Length"))
	}
}

func TestServerRefuses(t *testing.T) {
	s := newStorage(t, 2)
	srv := serve(t, s)
	a := s.NewArtifact("GitRepository", "ns", "app", "r", "abc.tar.gz")
	must(t, s.WriteFile(&a, strings.NewReader("artifact")))

	const secret = "SECRET-outside-the-storage-root"
	outside := filepath.Join(t.TempDir(), "secret.tar.gz")
	must(t, os.WriteFile(outside, []byte(secret), 0o644))
	objDir := filepath.Join(s.dir, "gitrepository", "ns", "app")
	rel, err := filepath.Rel(objDir, outside)
	must(t, err)
	must(t, os.Symlink(outside, filepath.Join(objDir, "abs-link.tar.gz")))
	must(t, os.Symlink(rel, filepath.Join(objDir, "rel-link.tar.gz")))
	must(t, os.Symlink(filepath.Dir(outside), filepath.Join(s.dir, "gitrepository", "linkns")))
	must(t, os.WriteFile(filepath.Join(objDir, tempPrefix+"inprogress"), []byte("partial"), 0o644))
	must(t, os.WriteFile(filepath.Join(s.dir, "root-file"), []byte("x"), 0o644))

	notFound := []string{
		"/",
		"/root-file",
		"/gitrepository",
		"/gitrepository/ns/app",
		"/gitrepository/ns/app/",
		"/gitrepository/ns/app/missing.tar.gz",
		"/gitrepository/ns/app/abc.tar.gz/",
		"/gitrepository/ns/app/../app/abc.tar.gz",
		"/../../../../../../etc/passwd",
		"/gitrepository/ns/app/../../../../" + strings.TrimPrefix(outside, "/"),
		"/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/gitrepository/ns/app/%2e%2e%2f%2e%2e%2f%2e%2e%2fapp/abc.tar.gz",
		"/gitrepository/ns/app/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
		"/gitrepository//ns/app/abc.tar.gz",
		"/gitrepository/ns/app/abs-link.tar.gz",
		"/gitrepository/ns/app/rel-link.tar.gz",
		"/gitrepository/linkns/x/secret.tar.gz",
		"/gitrepository/ns/app/" + tempPrefix + "inprogress",
	}
	for _, target := range notFound {
		resp, body := rawRequest(t, srv, "GET", target)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", target, resp.Status)
		}
		if strings.Contains(string(body), secret) || strings.Contains(string(body), "root:") {
			t.Errorf("GET %s leaked content", target)
		}
	}
	// The same encoded escape through Go's client (which keeps it encoded on the wire).
	resp, err := http.Get(srv.URL + "/%2e%2e/%2e%2e/%2e%2e/etc/passwd")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("client GET %%2e%%2e: %s", resp.Status)
	}

	for _, method := range []string{"PUT", "DELETE", "POST", "PATCH", "OPTIONS"} {
		resp, _ := rawRequest(t, srv, method, "/"+a.Path, "Content-Length: 0")
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %s, Allow %q", method, resp.Status, resp.Header.Get("Allow"))
		}
	}
	if !s.Exists(a) {
		t.Error("the artifact is gone after DELETE")
	}
}

func TestServerETag(t *testing.T) {
	s := newStorage(t, 2)
	srv := serve(t, s)

	// A file not written through Storage is hashed once, then served from the cache.
	a := s.NewArtifact("GitRepository", "ns", "app", "r", "x.tar.gz")
	p := filepath.Join(s.dir, filepath.FromSlash(a.Path))
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte("first"), 0o644))
	want := `"` + digestOf(t, []byte("first")) + `"`

	for range 3 {
		resp, _ := rawRequest(t, srv, "GET", "/"+a.Path)
		if resp.Header.Get("ETag") != want {
			t.Fatalf("ETag %q, want %q", resp.Header.Get("ETag"), want)
		}
	}
	if n := s.etags.hashes.Load(); n != 1 {
		t.Errorf("hashed %d times for 3 requests, want 1", n)
	}

	resp, body := rawRequest(t, srv, "GET", "/"+a.Path, "If-None-Match: "+want)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match: %s with %d body bytes", resp.Status, len(body))
	}
	resp, _ = rawRequest(t, srv, "GET", "/"+a.Path, `If-None-Match: "sha256:other"`)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("If-None-Match other: %s", resp.Status)
	}

	// Replaced out of band (new size and mtime): a new ETag, and the old one no longer matches.
	must(t, os.WriteFile(p, []byte("second version"), 0o644))
	later := time.Now().Add(time.Minute)
	must(t, os.Chtimes(p, later, later))
	resp, body = rawRequest(t, srv, "GET", "/"+a.Path, "If-None-Match: "+want)
	if resp.StatusCode != http.StatusOK || string(body) != "second version" ||
		resp.Header.Get("ETag") != `"`+digestOf(t, []byte("second version"))+`"` {
		t.Errorf("after replace: %s %q ETag %q", resp.Status, body, resp.Header.Get("ETag"))
	}

	// Writes through Storage seed the cache: serving them hashes nothing.
	before := s.etags.hashes.Load()
	b := s.NewArtifact("GitRepository", "ns", "app", "r", "y.tar.gz")
	must(t, s.WriteFile(&b, strings.NewReader("seeded")))
	resp, _ = rawRequest(t, srv, "GET", "/"+b.Path)
	if resp.Header.Get("ETag") != `"`+b.Digest+`"` || s.etags.hashes.Load() != before {
		t.Errorf("seeded: ETag %q, %d hashes", resp.Header.Get("ETag"), s.etags.hashes.Load()-before)
	}
}
