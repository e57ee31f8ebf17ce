package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"weir.dev/notification-controller/internal/dispatch"
	"weir.dev/notification-controller/internal/server"
)

// stopwatch is a generic webhook that records when each event (by message) arrived.
type stopwatch struct {
	mu       sync.Mutex
	arrived  map[string]time.Time
	count    atomic.Int64
	notify   chan struct{}
	expected atomic.Int64
}

func newStopwatch(b *testing.B) (*stopwatch, string) {
	s := &stopwatch{arrived: map[string]time.Time{}, notify: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		var e struct {
			Message string `json:"message"`
		}
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &e)
		s.mu.Lock()
		s.arrived[e.Message] = now
		s.mu.Unlock()
		if s.count.Add(1) >= s.expected.Load() {
			select {
			case s.notify <- struct{}{}:
			default:
			}
		}
	}))
	b.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *stopwatch) wait(b *testing.B, n int64) {
	s.expected.Store(n)
	deadline := time.After(2 * time.Minute)
	for s.count.Load() < n {
		select {
		case <-s.notify:
		case <-deadline:
			b.Fatalf("%d of %d events arrived", s.count.Load(), n)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// poster POSTs events over keep-alive connections.
var poster = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}

func postBench(b *testing.B, url string, body []byte) {
	resp, err := poster.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b.Fatalf("POST answered %d", resp.StatusCode)
	}
}

// BenchmarkEventsToWebhook measures the events a second one event server takes from several
// senders and delivers to a local generic webhook: decoding, deduplication, Alert matching,
// Provider and Secret lookup, and delivery, end to end. Events are about 64 objects, so the
// Provider's lanes deliver in parallel. Reports events/s and the p50/p99 latency from POST to
// arrival.
func BenchmarkEventsToWebhook(b *testing.B) {
	m := manager(b)
	ns := env.Namespace(b)
	watch, hookURL := newStopwatch(b)
	// Queues as long as the run, so that the figure is what is delivered, not what is dropped.
	url := m.StartEventServer(b, server.EventServerOptions{CrossNamespace: true, DedupWindow: 5 * time.Minute,
		Dispatch: dispatch.Options{QueueSize: b.N}})
	alertFor(b, m, ns, "bench", hookURL, nil)

	bodies := make([][]byte, b.N)
	for i := range bodies {
		e := newEvent("GitRepository", ns, fmt.Sprintf("app-%d", i%64), "info", "NewArtifact", fmt.Sprintf("bench-%d", i), nil)
		bodies[i], _ = json.Marshal(e)
	}
	sent := make([]time.Time, b.N)
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				sent[i] = time.Now()
				postBench(b, url, bodies[i])
			}
		}()
	}
	wg.Wait()
	watch.wait(b, int64(b.N))
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	reportLatency(b, watch, sent)
}

// BenchmarkEventLatency measures one event at a time, POST to arrival at the webhook, with
// nothing else in flight.
func BenchmarkEventLatency(b *testing.B) {
	m := manager(b)
	ns := env.Namespace(b)
	watch, hookURL := newStopwatch(b)
	url := m.StartEventServer(b, server.EventServerOptions{CrossNamespace: true, DedupWindow: 5 * time.Minute})
	alertFor(b, m, ns, "latency", hookURL, nil)
	sent := make([]time.Time, b.N)
	b.ResetTimer()
	for i := range b.N {
		body, _ := json.Marshal(newEvent("GitRepository", ns, "app", "info", "NewArtifact", fmt.Sprintf("bench-%d", i), nil))
		sent[i] = time.Now()
		postBench(b, url, body)
		watch.wait(b, int64(i+1))
	}
	b.StopTimer()
	reportLatency(b, watch, sent)
}

func reportLatency(b *testing.B, watch *stopwatch, sent []time.Time) {
	watch.mu.Lock()
	defer watch.mu.Unlock()
	lat := make([]time.Duration, 0, len(sent))
	for i, t := range sent {
		if at, ok := watch.arrived[fmt.Sprintf("bench-%d", i)]; ok {
			lat = append(lat, at.Sub(t))
		}
	}
	if len(lat) != len(sent) {
		b.Fatalf("%d of %d events arrived", len(lat), len(sent))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
