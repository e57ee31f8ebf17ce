package storage

import (
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"weir.dev/pkg/artifact"
)

// maxETags bounds the ETag cache; when full it is emptied and refilled on demand.
const maxETags = 10_000

// Handler returns the read-only artifact server: GET and HEAD of the artifact files under the
// root, at their artifact path. Anything else is refused without telling why:
//   - methods other than GET and HEAD: 405, with Allow;
//   - a path that is not a valid artifact path (see the package doc: "..", encoded or not,
//     empty or hidden segments, temporary files), a directory, a missing file, or a symlink
//     leaving the root: 404.
//
// Responses carry Content-Length, a strong ETag `"sha256:<hex>"` (the artifact's digest, so
// it matches status.artifact.digest), Last-Modified, Content-Type application/gzip for .tar.gz
// and .tgz (application/octet-stream otherwise) and X-Content-Type-Options: nosniff;
// If-None-Match gives 304 and Range requests are honoured (http.ServeContent).
//
// A file whose bytes differ from the digest Storage wrote or verified at its path is never
// served: 500. Files written before this process started are served as they are until Verify
// is called with their artifact (every reconcile does).
func (s *Storage) Handler() http.Handler {
	return http.HandlerFunc(s.serve)
}

func (s *Storage) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	if checkPath(p) != nil {
		http.NotFound(w, r)
		return
	}
	f, err := s.root.Open(p)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	digest, err := s.etags.get(p, fi, f)
	if err != nil {
		http.Error(w, "cannot read artifact", http.StatusInternalServerError)
		return
	}
	if want, ok := s.etags.wanted(p); ok && want != digest {
		http.Error(w, "artifact does not match its digest", http.StatusInternalServerError)
		return
	}
	w.Header().Set("ETag", `"`+digest+`"`)
	w.Header().Set("Content-Type", contentType(p))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

func contentType(p string) string {
	if strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tgz") {
		return "application/gzip"
	}
	return "application/octet-stream"
}

// etagCache maps an artifact path to the digest of its file, valid while the file keeps the
// identity it had when hashed: modification and change time, size and inode (the change time
// moves on every write, even one that restores the modification time). Writes through Storage
// fill it; the server hashes anything else once. It also holds the digest each path must have,
// as written or verified through Storage.
type etagCache struct {
	mu     sync.Mutex
	m      map[string]etagEntry
	want   map[string]string // digest recorded by writeAtomic or Verify; bounded by the files in storage
	hashes atomic.Int64      // files hashed by get, for tests
}

type etagEntry struct {
	id     fileID
	digest string
}

// get returns the digest of f (opened at p, described by fi), hashing it only when the cache
// has nothing for this file identity. f is left at offset 0.
func (c *etagCache) get(p string, fi fs.FileInfo, f io.ReadSeeker) (string, error) {
	c.mu.Lock()
	e, ok := c.m[p]
	c.mu.Unlock()
	if ok && e.id == idOf(fi) {
		return e.digest, nil
	}
	c.hashes.Add(1)
	digest, _, err := artifact.Digest(f)
	if err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	c.put(p, fi, digest)
	return digest, nil
}

func (c *etagCache) put(p string, fi fs.FileInfo, digest string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxETags {
		clear(c.m)
	}
	c.m[p] = etagEntry{id: idOf(fi), digest: digest}
}

// expect records the digest the file at p must have.
func (c *etagCache) expect(p, digest string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want[p] = digest
}

// wanted returns the digest recorded for p, if any.
func (c *etagCache) wanted(p string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.want[p]
	return d, ok
}

func (c *etagCache) forget(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, p)
	delete(c.want, p)
}

func (c *etagCache) forgetUnder(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.m {
		if strings.HasPrefix(p, prefix) {
			delete(c.m, p)
		}
	}
	for p := range c.want {
		if strings.HasPrefix(p, prefix) {
			delete(c.want, p)
		}
	}
}
