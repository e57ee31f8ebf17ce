package controller

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"weir.dev/source-controller/internal/git"
)

// maxMirrors bounds the worktrees kept between reconciles: the least recently used beyond it
// are removed (a GitRepository that is deleted is forgotten that way too).
const maxMirrors = 64

// mirrors keeps, for each GitRepository, the worktree of its last artifact, so the next revision
// writes only the files that changed. A mirror is used by one reconcile at a time: the
// controller never reconciles one GitRepository twice at once.
type mirrors struct {
	// dir holds the worktrees, one directory per GitRepository.
	dir string

	mu    sync.Mutex
	byKey map[string]*mirrorEntry
}

type mirrorEntry struct {
	mirror *git.Mirror
	spec   string // what the worktree depends on besides the commit: URL and sparse checkout
	used   time.Time
	busy   bool
}

// take returns the mirror of key, a new one when there is none or spec changed. Give it back
// with put.
func (ms *mirrors) take(key, spec string) *git.Mirror {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.byKey == nil {
		ms.byKey = map[string]*mirrorEntry{}
	}
	e := ms.byKey[key]
	if e != nil && e.spec == spec && !e.busy {
		e.busy = true
		return e.mirror
	}
	if e != nil && !e.busy {
		_ = os.RemoveAll(e.mirror.Dir)
	}
	name := fmt.Sprintf("%x", sha256.Sum256([]byte(key+"\x00"+spec)))[:32]
	m := &git.Mirror{Dir: filepath.Join(ms.dir, name)}
	_ = os.RemoveAll(m.Dir) // whatever an earlier process left
	ms.byKey[key] = &mirrorEntry{mirror: m, spec: spec, busy: true}
	return m
}

// put gives the mirror of key back; a mirror whose write failed (ok false) is removed.
func (ms *mirrors) put(key string, m *git.Mirror, ok bool) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	e := ms.byKey[key]
	if e == nil || e.mirror != m {
		_ = os.RemoveAll(m.Dir)
		return
	}
	e.busy, e.used = false, time.Now()
	if !ok {
		delete(ms.byKey, key)
		_ = os.RemoveAll(m.Dir)
	}
	for len(ms.byKey) > maxMirrors {
		var oldest string
		for k, e := range ms.byKey {
			if !e.busy && (oldest == "" || e.used.Before(ms.byKey[oldest].used)) {
				oldest = k
			}
		}
		if oldest == "" {
			return
		}
		_ = os.RemoveAll(ms.byKey[oldest].mirror.Dir)
		delete(ms.byKey, oldest)
	}
}
