package storage

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"weir.dev/api/meta"
)

// DefaultRetention is the number of artifacts kept per object (the current one included) when
// New is given a retention of zero.
const DefaultRetention = 2

// Storage is a directory of artifacts, one subdirectory per object. It is safe for concurrent
// use; see Lock for what callers must serialise.
type Storage struct {
	root      *os.Root
	dir       string // absolute path of the root
	host      string // advertised host[:port]
	retention int

	locksMu sync.Mutex
	locks   map[string]*objectLock // by object directory

	etags etagCache
}

// New opens (creating it if needed) the storage directory root. advertisedHost is the
// host[:port] consumers reach the artifact server at; artifact URLs are built from it.
// retention is the number of artifacts GarbageCollect keeps per object, the current one
// included: zero means DefaultRetention, a negative value is an error.
func New(root, advertisedHost string, retention int) (*Storage, error) {
	if retention < 0 {
		return nil, fmt.Errorf("storage: retention %d is negative", retention)
	}
	if retention == 0 {
		retention = DefaultRetention
	}
	if u, err := url.Parse("http://" + advertisedHost); advertisedHost == "" || err != nil ||
		u.Host != advertisedHost || u.Hostname() == "" {
		return nil, fmt.Errorf("storage: advertised address %q is not host[:port]", advertisedHost)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &Storage{
		root:      r,
		dir:       abs,
		host:      advertisedHost,
		retention: retention,
		locks:     map[string]*objectLock{},
		etags:     etagCache{m: map[string]etagEntry{}, want: map[string]string{}},
	}, nil
}

// Root returns the absolute path of the storage directory, for tests and diagnostics; go
// through Storage's methods to read or write artifacts.
func (s *Storage) Root() string { return s.dir }

// Close releases the storage root. The Storage must not be used afterwards.
func (s *Storage) Close() error { return s.root.Close() }

// NewArtifact returns the artifact for an object's file: Path
// `<lowercase kind>/<namespace>/<name>/<fileName>`, its URL on the advertised host, and
// revision. Digest, Size and LastUpdateTime are set when the file is written (Archive,
// WriteFile). The path is not validated here; every operation on it is.
func (s *Storage) NewArtifact(kind, namespace, name, revision, fileName string) meta.Artifact {
	p := strings.Join([]string{strings.ToLower(kind), namespace, name, fileName}, "/")
	return meta.Artifact{Path: p, URL: s.urlFor(p), Revision: revision}
}

// SetArtifactURL rewrites a.URL from a.Path and the current advertised host, for artifacts
// recorded under a previous advertised address.
func (s *Storage) SetArtifactURL(a *meta.Artifact) {
	a.URL = s.urlFor(a.Path)
}

func (s *Storage) urlFor(p string) string {
	return (&url.URL{Scheme: "http", Host: s.host, Path: "/" + p}).String()
}

// checkPath validates an artifact path: four segments, none empty or starting with ".".
func checkPath(p string) error {
	segs := strings.Split(p, "/")
	if len(segs) != 4 {
		return fmt.Errorf("invalid artifact path %q: want <kind>/<namespace>/<name>/<file>", p)
	}
	for _, seg := range segs {
		if err := checkSegment(seg); err != nil {
			return fmt.Errorf("invalid artifact path %q: %w", p, err)
		}
	}
	return nil
}

// checkSegment validates one path segment.
func checkSegment(seg string) error {
	switch {
	case seg == "":
		return errors.New("empty segment")
	case strings.HasPrefix(seg, "."):
		return fmt.Errorf("segment %q starts with a dot", seg)
	case strings.ContainsAny(seg, "/\\\x00"):
		return fmt.Errorf("segment %q has a slash, backslash or NUL", seg)
	}
	return nil
}

// objectLock is one object's mutex and the number of holders and waiters.
type objectLock struct {
	mu   sync.Mutex
	refs int
}

// Lock locks the object directory of a (every artifact of one object shares the lock) and
// returns the function that unlocks it; calling that function more than once is harmless.
// Hold it across writing a new artifact and GarbageCollect, so that one object's artifacts
// are never written and collected at once. The lock is in-process only: one process owns a
// storage root.
func (s *Storage) Lock(a meta.Artifact) (unlock func()) {
	key := path.Dir(a.Path)
	s.locksMu.Lock()
	l := s.locks[key]
	if l == nil {
		l = &objectLock{}
		s.locks[key] = l
	}
	l.refs++
	s.locksMu.Unlock()

	l.mu.Lock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Unlock()
			s.locksMu.Lock()
			if l.refs--; l.refs == 0 {
				delete(s.locks, key)
			}
			s.locksMu.Unlock()
		})
	}
}
