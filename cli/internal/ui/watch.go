package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"
)

// maxKeysPerEvent bounds a change event; a larger batch is sent as "*" (everything changed).
const maxKeysPerEvent = 200

// hub fans the store's changes out to the browsers watching /watch.
type hub struct {
	mu     sync.Mutex
	subs   map[chan struct{}]map[string]bool
	closed bool
}

func newHub() *hub { return &hub{subs: map[chan struct{}]map[string]bool{}} }

// publish records that key changed and wakes every subscriber. It never blocks: a subscriber
// that is behind collects the keys until it reads them.
func (h *hub) publish(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch, pending := range h.subs {
		if len(pending) <= maxKeysPerEvent {
			pending[key] = true
		}
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// subscribe returns a channel woken on changes, and a function that takes the changed keys.
func (h *hub) subscribe() (chan struct{}, func() []string) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.closed {
		close(ch)
	} else {
		h.subs[ch] = map[string]bool{}
	}
	h.mu.Unlock()
	take := func() []string {
		h.mu.Lock()
		defer h.mu.Unlock()
		pending := h.subs[ch]
		if len(pending) > maxKeysPerEvent {
			h.subs[ch] = map[string]bool{}
			return []string{"*"}
		}
		keys := make([]string, 0, len(pending))
		for k := range pending {
			keys = append(keys, k)
		}
		h.subs[ch] = map[string]bool{}
		sort.Strings(keys)
		return keys
	}
	return ch, take
}

func (h *hub) unsubscribe(ch chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

// close ends every subscription, so that open event streams return on shutdown.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		close(ch)
	}
	h.subs = map[chan struct{}]map[string]bool{}
}

// watch streams server-sent events: a "change" event with the keys of the objects that
// changed, at most every quarter second, and a comment every 15 seconds to keep the
// connection open.
func (s *Server) watch(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, take := s.hub.subscribe()
	defer s.hub.unsubscribe(ch)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	fmt.Fprint(w, "retry: 2000\nevent: hello\ndata: {}\n\n")
	flusher.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
			flusher.Flush()
		case _, open := <-ch:
			if !open {
				return
			}
			// Let a burst of changes settle into one event.
			select {
			case <-r.Context().Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
			keys := take()
			if len(keys) == 0 {
				continue
			}
			data, _ := json.Marshal(keys)
			fmt.Fprintf(w, "event: change\ndata: %s\n\n", data)
			flusher.Flush()
		}
	}
}
