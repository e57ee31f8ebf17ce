package artifact

import (
	"archive/tar"
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// storageServer serves one artifact at /gitrepository/ns/name/a.tar.gz through handler, which
// may answer differently per hit (1-based); a nil handler serves the artifact.
type storageServer struct {
	*httptest.Server
	data    []byte
	digest  string
	hits    atomic.Int32
	handler func(hit int32, w http.ResponseWriter, r *http.Request) bool // true: handled
}

const artifactPath = "/gitrepository/ns/name/a.tar.gz"

func newStorageServer(t *testing.T, data []byte) *storageServer {
	s := &storageServer{data: data}
	s.digest, _, _ = Digest(bytes.NewReader(data))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hit := s.hits.Add(1)
		if s.handler != nil && s.handler(hit, w, r) {
			return
		}
		if r.URL.Path != artifactPath {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
		w.Write(s.data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *storageServer) host() string { return s.Listener.Addr().String() }

func (s *storageServer) fetcher() *Fetcher {
	return &Fetcher{AllowedHost: s.host(), Retries: 3, Backoff: 10 * time.Millisecond}
}

func sampleArtifact(t *testing.T) []byte {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"kustomization.yaml": "resources: [app.yaml]\n", "app.yaml": "kind: Pod\n"})
	return archiveDir(t, src, ArchiveOptions{})
}

// assertEmpty fails unless dir exists and is empty.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("dir after a failed fetch: %v %v", entries, err)
	}
}

func TestFetchSucceeds(t *testing.T) {
	s := newStorageServer(t, sampleArtifact(t))
	dst := t.TempDir()
	must(t, s.fetcher().Fetch(context.Background(), s.URL+artifactPath, s.digest, dst))
	got := readTree(t, dst)
	if len(got) != 2 || got["app.yaml"] != "kind: Pod\n" {
		t.Errorf("fetched tree %q", got)
	}
	if n := s.hits.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestFetchRefusesOtherHosts(t *testing.T) {
	s := newStorageServer(t, sampleArtifact(t))
	_, port, _ := net.SplitHostPort(s.host())
	other := "localhost:" + port // the same server under another name

	err := s.fetcher().Fetch(context.Background(), "http://"+other+artifactPath, s.digest, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `host "`+other+`" is not the storage host`) {
		t.Errorf("got %v", err)
	}
	f := s.fetcher()
	f.AllowedHost = ""
	if err := f.Fetch(context.Background(), s.URL+artifactPath, s.digest, t.TempDir()); err == nil {
		t.Error("an empty AllowedHost allowed a fetch")
	}
	for _, u := range []string{"file:///etc/passwd", "ftp://" + s.host() + "/x", "://bad"} {
		if err := s.fetcher().Fetch(context.Background(), u, s.digest, t.TempDir()); err == nil {
			t.Errorf("%s: fetched", u)
		}
	}

	// A redirect to another host is refused too.
	s.handler = func(_ int32, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://"+other+artifactPath, http.StatusFound)
			return true
		}
		return false
	}
	dst := t.TempDir()
	err = s.fetcher().Fetch(context.Background(), s.URL+"/redirect", s.digest, dst)
	if err == nil || !strings.Contains(err.Error(), `redirect refused: to host "`+other+`"`) {
		t.Errorf("redirect: got %v", err)
	}
	assertEmpty(t, dst)
	if n := s.hits.Load(); n != 1 {
		t.Errorf("%d requests, want only the one redirected", n)
	}
}

func TestFetchNotFoundIsAnError(t *testing.T) {
	s := newStorageServer(t, sampleArtifact(t))
	dst := t.TempDir()
	err := s.fetcher().Fetch(context.Background(), s.URL+"/gitrepository/ns/name/gone.tar.gz", s.digest, dst)
	if err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("got %v", err)
	}
	assertEmpty(t, dst)
	if n := s.hits.Load(); n != 1 {
		t.Errorf("a 404 was retried: %d requests", n)
	}
}

func TestFetchRetriesTransientFailures(t *testing.T) {
	t.Run("500 twice then 200", func(t *testing.T) {
		s := newStorageServer(t, sampleArtifact(t))
		s.handler = func(hit int32, w http.ResponseWriter, _ *http.Request) bool {
			if hit <= 2 {
				http.Error(w, "busy", http.StatusInternalServerError)
				return true
			}
			return false
		}
		dst := t.TempDir()
		must(t, s.fetcher().Fetch(context.Background(), s.URL+artifactPath, s.digest, dst))
		if n := s.hits.Load(); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
		if len(readTree(t, dst)) != 2 {
			t.Error("not extracted")
		}
	})
	t.Run("dropped connection then 200", func(t *testing.T) {
		s := newStorageServer(t, sampleArtifact(t))
		s.handler = func(hit int32, w http.ResponseWriter, _ *http.Request) bool {
			if hit == 1 { // half the body, then the connection drops
				w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
				w.Write(s.data[:len(s.data)/2])
				conn, _, _ := http.NewResponseController(w).Hijack()
				conn.Close()
				return true
			}
			return false
		}
		must(t, s.fetcher().Fetch(context.Background(), s.URL+artifactPath, s.digest, t.TempDir()))
		if n := s.hits.Load(); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("gives up after Retries", func(t *testing.T) {
		s := newStorageServer(t, sampleArtifact(t))
		s.handler = func(_ int32, w http.ResponseWriter, _ *http.Request) bool {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return true
		}
		f := s.fetcher()
		f.Retries = 2
		err := f.Fetch(context.Background(), s.URL+artifactPath, s.digest, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "503 Service Unavailable") {
			t.Errorf("got %v", err)
		}
		if n := s.hits.Load(); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		host := l.Addr().String()
		l.Close()
		f := &Fetcher{AllowedHost: host, Retries: 2, Backoff: 5 * time.Millisecond}
		err = f.Fetch(context.Background(), "http://"+host+"/x.tar.gz", "sha256:"+strings.Repeat("0", 64), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("got %v", err)
		}
	})
}

func TestFetchDigestMismatch(t *testing.T) {
	s := newStorageServer(t, sampleArtifact(t))
	wrong := "sha256:" + strings.Repeat("ab", 32)
	dst := t.TempDir()
	err := s.fetcher().Fetch(context.Background(), s.URL+artifactPath, wrong, dst)
	if err == nil || !strings.Contains(err.Error(), "digest mismatch: expected "+wrong+", got "+s.digest) {
		t.Errorf("got %v", err)
	}
	assertEmpty(t, dst)
	if n := s.hits.Load(); n != 1 {
		t.Errorf("a digest mismatch was retried: %d requests", n)
	}
	for _, bad := range []string{"", "sha256:xyz", "md5:" + strings.Repeat("0", 32), strings.Repeat("0", 64)} {
		if err := s.fetcher().Fetch(context.Background(), s.URL+artifactPath, bad, t.TempDir()); err == nil {
			t.Errorf("digest %q accepted", bad)
		}
	}
	// Upper-case hex names the same digest.
	must(t, s.fetcher().Fetch(context.Background(), s.URL+artifactPath, "sha256:"+strings.ToUpper(s.digest[7:]), t.TempDir()))
}

func TestFetchLeavesDirEmptyWhenExtractFails(t *testing.T) {
	// A verified artifact that Extract refuses half-way: dir must not keep the first half.
	data := makeTarGz(t, file("a.yaml", "a"), tarEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "evil", Linkname: "/etc/passwd"}})
	s := newStorageServer(t, data)
	dst := t.TempDir()
	err := s.fetcher().Fetch(context.Background(), s.URL+artifactPath, s.digest, dst)
	if err == nil || !strings.Contains(err.Error(), `"evil": symlinks are not allowed`) {
		t.Errorf("got %v", err)
	}
	assertEmpty(t, dst)

	// A directory that is not empty is refused before any download.
	full := t.TempDir()
	must(t, os.WriteFile(filepath.Join(full, "mine"), nil, 0o644))
	if err := s.fetcher().Fetch(context.Background(), s.URL+artifactPath, s.digest, full); err == nil {
		t.Error("fetched into a non-empty directory")
	}
	if _, err := os.Stat(filepath.Join(full, "mine")); err != nil {
		t.Errorf("the caller's file is gone: %v", err)
	}
}

func TestFetchSizeLimit(t *testing.T) {
	data := sampleArtifact(t)
	for _, chunked := range []bool{false, true} {
		t.Run("chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
			s := newStorageServer(t, data)
			s.handler = func(_ int32, w http.ResponseWriter, _ *http.Request) bool {
				if !chunked {
					return false
				}
				for i := range data { // no Content-Length: the limit must hold while streaming
					w.Write(data[i : i+1])
					w.(http.Flusher).Flush()
				}
				return true
			}
			f := s.fetcher()
			f.MaxDownloadSize = int64(len(data) - 1)
			dst := t.TempDir()
			err := f.Fetch(context.Background(), s.URL+artifactPath, s.digest, dst)
			if err == nil || !strings.Contains(err.Error(), "exceeds the limit of "+strconv.Itoa(len(data)-1)+" bytes") {
				t.Errorf("got %v", err)
			}
			assertEmpty(t, dst)
			if n := s.hits.Load(); n != 1 {
				t.Errorf("an oversize artifact was retried: %d requests", n)
			}
			f.MaxDownloadSize = int64(len(data))
			must(t, f.Fetch(context.Background(), s.URL+artifactPath, s.digest, dst))
		})
	}
}

func TestFetchStopsAtContextDeadline(t *testing.T) {
	s := newStorageServer(t, sampleArtifact(t))
	s.handler = func(_ int32, w http.ResponseWriter, r *http.Request) bool {
		select { // answer in 10s, or when the client goes away
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	dst := t.TempDir()
	err := s.fetcher().Fetch(ctx, s.URL+artifactPath, s.digest, dst)
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("got %v", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("returned after %v", elapsed)
	}
	assertEmpty(t, dst)
}

func TestFetchErrorsHideSecrets(t *testing.T) {
	s := newStorageServer(t, sampleArtifact(t))
	u := "http://user:s3cr3t-pass@" + s.host() + "/missing.tar.gz?token=t0k3n-value#frag"
	err := s.fetcher().Fetch(context.Background(), u, s.digest, t.TempDir())
	if err == nil {
		t.Fatal("fetched a missing artifact")
	}
	wrongHost := strings.Replace(u, s.host(), "evil.example:80", 1)
	err2 := s.fetcher().Fetch(context.Background(), wrongHost, s.digest, t.TempDir())
	badScheme := strings.Replace(u, "http:", "gopher:", 1)
	err3 := s.fetcher().Fetch(context.Background(), badScheme, s.digest, t.TempDir())
	// A transport error: net/http's own message would repeat the URL with its query.
	l, lerr := net.Listen("tcp", "127.0.0.1:0")
	must(t, lerr)
	closed := l.Addr().String()
	l.Close()
	f := &Fetcher{AllowedHost: closed, Backoff: time.Millisecond}
	err4 := f.Fetch(context.Background(), strings.Replace(u, s.host(), closed, 1), s.digest, t.TempDir())
	if err4 == nil || !strings.Contains(err4.Error(), "connection refused") {
		t.Errorf("closed port: %v", err4)
	}
	for _, e := range []error{err, err2, err3, err4} {
		if e == nil {
			t.Fatal("no error")
		}
		for _, secret := range []string{"s3cr3t", "t0k3n", "user", "frag"} {
			if strings.Contains(e.Error(), secret) {
				t.Errorf("error reveals %q: %v", secret, e)
			}
		}
	}
	if !strings.Contains(err.Error(), "http://"+s.host()+"/missing.tar.gz: 404") {
		t.Errorf("error does not name the redacted URL: %v", err)
	}
}

func TestHostLeavesOutCredentials(t *testing.T) {
	for raw, want := range map[string]string{
		"http://user:secret@storage.weir-system:9090/gitrepository/a.tar.gz?token=x": "storage.weir-system:9090",
		"http://127.0.0.1:9090/a.tar.gz":                                             "127.0.0.1:9090",
		"::not a url":                                                                "",
	} {
		if got := Host(raw); got != want {
			t.Errorf("Host(%q) = %q, want %q", raw, got, want)
		}
	}
}
