package server

import (
	"crypto/sha256"
	"sync"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
)

// dedup remembers the events seen within a window. It is bounded: past maxEntries it forgets
// everything, so a flood of distinct events costs notifications sent twice, never memory.
type dedup struct {
	window     time.Duration
	maxEntries int
	mu         sync.Mutex
	seen       map[[32]byte]time.Time
	lastSweep  time.Time
}

func newDedup(window time.Duration, maxEntries int) *dedup {
	return &dedup{window: window, maxEntries: maxEntries, seen: map[[32]byte]time.Time{}}
}

// eventKey identifies an event for deduplication: the object, severity, reason, message, and
// the revision and token metadata.
func eventKey(e *eventv1.Event) [32]byte {
	o := e.InvolvedObject
	h := sha256.New()
	for _, s := range []string{o.APIVersion, o.Kind, o.Namespace, o.Name, e.Severity, e.Reason, e.Message,
		e.Metadata[eventv1.MetaRevisionKey], e.Metadata[eventv1.MetaTokenKey]} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

// seenRecently reports whether an event with key k was seen within the window, and records it
// when not. A zero window never reports a duplicate.
func (d *dedup) seenRecently(k [32]byte, now time.Time) bool {
	if d.window <= 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.seen[k]; ok && now.Sub(t) < d.window {
		return true
	}
	d.seen[k] = now
	if now.Sub(d.lastSweep) > d.window || len(d.seen) > d.maxEntries {
		for key, t := range d.seen {
			if now.Sub(t) >= d.window {
				delete(d.seen, key)
			}
		}
		d.lastSweep = now
	}
	if len(d.seen) > d.maxEntries {
		d.seen = map[[32]byte]time.Time{k: now}
	}
	return false
}
