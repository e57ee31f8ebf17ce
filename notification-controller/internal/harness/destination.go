package harness

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Request is one request a Destination received.
type Request struct {
	Method string
	// Path is the escaped path, e.g. /api/v4/projects/g%2Fapp/statuses/...
	Path string
	// Host is the host the request was for (differs from the Destination's behind a proxy).
	Host   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// Destination is a loopback HTTP server playing a chat service, a webhook or a Git API: it
// records every request, then answers with Handler (200 when nil).
type Destination struct {
	*httptest.Server
	// Handler answers after the request is recorded; set it before the first request. A
	// handler that waits must also return when r.Context() ends: it ends with the test, and
	// closing the server waits for every handler.
	Handler http.HandlerFunc
	mu      sync.Mutex
	reqs    []Request
	arrived chan struct{}
	// ended is cancelled when the test ends, and with it every request's context.
	ended  context.Context
	cancel context.CancelFunc
}

// closeTimeout bounds how long closing a Destination waits for its handlers.
const closeTimeout = 10 * time.Second

// NewDestination starts a Destination closed when the test ends.
func NewDestination(t testing.TB, h http.HandlerFunc) *Destination {
	return newDestination(t, h, httptest.NewServer)
}

// NewTLSDestination starts a Destination serving HTTPS with a certificate of its own; its
// Certificate() is the CA to trust.
func NewTLSDestination(t testing.TB, h http.HandlerFunc) *Destination {
	return newDestination(t, h, httptest.NewTLSServer)
}

func newDestination(t testing.TB, h http.HandlerFunc, start func(http.Handler) *httptest.Server) *Destination {
	d := &Destination{Handler: h, arrived: make(chan struct{}, 1)}
	d.ended, d.cancel = context.WithCancel(context.Background())
	d.Server = start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d.mu.Lock()
		d.reqs = append(d.reqs, Request{Method: r.Method, Path: r.URL.EscapedPath(), Host: r.Host, Header: r.Header.Clone(), Body: body, At: time.Now()})
		d.mu.Unlock()
		select {
		case d.arrived <- struct{}{}:
		default:
		}
		if d.Handler != nil {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			defer context.AfterFunc(d.ended, cancel)()
			d.Handler(w, r.WithContext(ctx))
		}
	}))
	t.Cleanup(func() { d.shutdown(t) })
	return d
}

// shutdown ends the requests in flight and closes the server, failing the test if a handler
// still runs after closeTimeout: httptest.Server.Close would wait for it forever.
func (d *Destination) shutdown(t testing.TB) {
	d.cancel()
	closed := make(chan struct{})
	go func() {
		d.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(closeTimeout):
		t.Errorf("%s: a handler still runs %s after the test ended; it must return when r.Context() ends", d.URL, closeTimeout)
	}
}

// Requests returns the requests received so far.
func (d *Destination) Requests() []Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Request(nil), d.reqs...)
}

// WaitFor waits until at least n requests arrived and returns them; it fails the test after
// timeout.
func (d *Destination) WaitFor(t testing.TB, n int, timeout time.Duration) []Request {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if got := d.Requests(); len(got) >= n {
			return got
		}
		select {
		case <-d.arrived:
		case <-deadline.C:
			t.Fatalf("%s received %d requests within %s, want %d", d.URL, len(d.Requests()), timeout, n)
		}
	}
}

// Quiet fails the test if more than n requests arrive within d.
func (d *Destination) Quiet(t testing.TB, n int, wait time.Duration) {
	t.Helper()
	time.Sleep(wait)
	if got := d.Requests(); len(got) > n {
		t.Fatalf("%s received %d requests, want %d", d.URL, len(got), n)
	}
}

// JSONEqual fails the test unless got and want hold the same JSON value.
func JSONEqual(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		t.Fatalf("body mismatch\n got: %s\nwant: %s", gb, wb)
	}
}
