package artifact

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"weir.dev/pkg/metrics"
)

// DefaultKeep is how many extracted artifacts a Cache keeps when no one uses them.
const DefaultKeep = 16

// A Cache shares extracted artifacts between their consumers: each digest is downloaded,
// verified and extracted once, however many Kustomizations read it, and kept while someone
// holds it plus, unused, among the Keep most recently used. Consumers must treat a Tree as
// read-only: many read it at once.
//
// A failed download is not kept: the next Get tries again.
type Cache struct {
	// Fetcher downloads and verifies the artifacts.
	Fetcher *Fetcher
	// Dir holds the extracted trees, one directory per digest. The Cache owns it: it removes
	// what it finds there that it did not extract.
	Dir string
	// Keep is how many unused trees stay extracted; zero means DefaultKeep.
	Keep int
	// Check, when set, runs once on each new tree, after extraction; its result is the tree's
	// CheckErr. kustomize-controller checks the build limits there.
	Check func(dir string) error

	mu    sync.Mutex
	trees map[string]*cached
}

// cached is one digest's tree, being extracted until ready is closed.
type cached struct {
	dir      string
	source   string // the artifact URL's directory: the trees of one source object share it
	ready    chan struct{}
	err      error // the download's, set before ready is closed
	checkErr error
	refs     int
	lastUsed time.Time
}

// A Tree is an extracted artifact held by its user until Release.
type Tree struct {
	// Dir is the tree's root. It must not be modified.
	Dir string
	// CheckErr is what the Cache's Check said of the tree.
	CheckErr error

	cache    *Cache
	digest   string
	released sync.Once
}

// Get returns the tree of the artifact at url with digest, downloading it unless it is
// extracted or being extracted already. The caller must Release the tree.
func (c *Cache) Get(ctx context.Context, url, digest string) (*Tree, error) {
	key, err := ParseDigest(digest)
	if err != nil {
		return nil, err
	}
	for {
		t, err := c.get(ctx, url, digest, key)
		// Another caller's download ended with its own context: try again with ours.
		if err != nil && isContextErr(err) && ctx.Err() == nil {
			continue
		}
		return t, err
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (c *Cache) get(ctx context.Context, url, digest, hex string) (*Tree, error) {
	c.mu.Lock()
	if c.trees == nil {
		c.trees = map[string]*cached{}
	}
	e, found := c.trees[hex]
	var base *cached
	if !found {
		e = &cached{dir: filepath.Join(c.Dir, strings.TrimPrefix(hex, "sha256:")), source: path.Dir(url), ready: make(chan struct{})}
		c.trees[hex] = e
		if base = c.latest(e.source); base != nil {
			base.refs++ // not removed while the new tree links to its files
		}
	}
	e.refs++
	c.mu.Unlock()
	metrics.ArtifactCacheRequests.WithLabelValues(cacheResult(found)).Inc()

	if !found {
		e.err = c.extract(ctx, url, digest, e, base)
		if base != nil {
			c.release(base)
		}
		c.mu.Lock()
		if e.err != nil {
			delete(c.trees, hex)
		}
		e.lastUsed = time.Now()
		c.mu.Unlock()
		close(e.ready)
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		c.release(e)
		return nil, ctx.Err()
	}
	if e.err != nil {
		c.release(e)
		return nil, e.err
	}
	return &Tree{Dir: e.dir, CheckErr: e.checkErr, cache: c, digest: hex}, nil
}

// latest is the most recently used complete tree of source, nil when there is none; c.mu is
// held.
func (c *Cache) latest(source string) *cached {
	var best *cached
	for _, t := range c.trees {
		if t.source == source && isClosed(t.ready) && t.err == nil && (best == nil || t.lastUsed.After(best.lastUsed)) {
			best = t
		}
	}
	return best
}

// extract downloads the artifact into e.dir, reusing the files of base's tree (an earlier
// revision of the same source) that did not change.
func (c *Cache) extract(ctx context.Context, url, digest string, e *cached, base *cached) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	// Removed first: a process before this one may have left it half extracted.
	if err := os.RemoveAll(e.dir); err != nil {
		return err
	}
	if err := os.Mkdir(e.dir, 0o700); err != nil {
		return err
	}
	var err error
	if base != nil {
		err = c.Fetcher.FetchReusing(ctx, url, digest, e.dir, base.dir)
	} else {
		err = c.Fetcher.Fetch(ctx, url, digest, e.dir)
	}
	if err != nil {
		_ = os.RemoveAll(e.dir)
		return err
	}
	if c.Check != nil {
		e.checkErr = c.Check(e.dir)
	}
	return nil
}

// Release gives the tree back; it may be removed once nobody holds it. Calls after the first
// do nothing.
func (t *Tree) Release() {
	t.released.Do(func() {
		t.cache.mu.Lock()
		e := t.cache.trees[t.digest]
		t.cache.mu.Unlock()
		if e != nil {
			t.cache.release(e)
		}
	})
}

// release drops one hold on e and removes the least recently used unheld trees beyond Keep.
func (c *Cache) release(e *cached) {
	c.mu.Lock()
	e.refs--
	e.lastUsed = time.Now()
	keep := c.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	var unused []string
	for d, t := range c.trees {
		if t.refs == 0 && isClosed(t.ready) && t.err == nil {
			unused = append(unused, d)
		}
	}
	var evict []*cached
	for len(unused) > keep {
		oldest := 0
		for i, d := range unused {
			if c.trees[d].lastUsed.Before(c.trees[unused[oldest]].lastUsed) {
				oldest = i
			}
		}
		evict = append(evict, c.trees[unused[oldest]])
		delete(c.trees, unused[oldest])
		unused = append(unused[:oldest], unused[oldest+1:]...)
	}
	c.mu.Unlock()
	for _, t := range evict {
		_ = os.RemoveAll(t.dir)
	}
}

// Len is how many trees are extracted or being extracted.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.trees)
}

// Clear removes every tree nobody holds, and anything else in Dir.
func (c *Cache) Clear() error {
	c.mu.Lock()
	held := map[string]bool{}
	for d, t := range c.trees {
		if t.refs > 0 || !isClosed(t.ready) {
			held[filepath.Base(t.dir)] = true
		} else {
			delete(c.trees, d)
		}
	}
	c.mu.Unlock()
	entries, err := os.ReadDir(c.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, en := range entries {
		if !held[en.Name()] {
			if err := os.RemoveAll(filepath.Join(c.Dir, en.Name())); err != nil {
				errs = append(errs, fmt.Errorf("clearing the artifact cache: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// cacheResult is the weir_artifact_cache_requests_total result of a Get that found its tree or not.
func cacheResult(found bool) string {
	if found {
		return metrics.CacheHit
	}
	return metrics.CacheMiss
}
