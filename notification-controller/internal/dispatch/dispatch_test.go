package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"

	"weir.dev/notification-controller/internal/egress"
	"weir.dev/notification-controller/internal/notifier"
)

type result struct {
	job      Job
	err      error
	attempts int
}

// harness is a Dispatcher whose finished jobs arrive on done.
func harness(t *testing.T, opts Options) (*Dispatcher, chan result) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 100)
	opts.Done = func(j Job, err error, attempts int) {
		select {
		case done <- result{j, err, attempts}:
		case <-ctx.Done():
		}
	}
	d := New(ctx, logr.Discard(), opts)
	t.Cleanup(func() {
		cancel()
		stopped := make(chan struct{})
		go func() {
			d.Wait()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Error("the lanes did not stop within 10s of the context ending")
		}
	})
	return d, done
}

// loopback allows the test webhooks' 127.0.0.1, as --allow-internal-addresses does.
var loopback = notifier.NewClient(nil, &egress.Policy{AllowInternal: true})

func webhook(t *testing.T, h http.HandlerFunc) notifier.Notifier {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	n, err := notifier.New(notifier.Config{Type: "generic", Address: srv.URL, Client: loopback})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func event(name, msg string) *notifier.Event {
	return &notifier.Event{Event: eventv1.Event{
		InvolvedObject: corev1.ObjectReference{Kind: "GitRepository", Namespace: "ns", Name: name},
		Severity:       "info", Message: msg, Reason: "Succeeded",
	}}
}

func wait(t *testing.T, done chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no job finished within 10s")
		return result{}
	}
}

var fast = Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond, Attempts: 4}

func TestRetriesAfterA500AndStopsOnA400(t *testing.T) {
	var calls atomic.Int32
	flaky := webhook(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	d, done := harness(t, Options{Backoff: fast})
	d.Submit(Job{Provider: "ns/flaky", Lane: "a", Notifier: flaky, Event: event("a", "m"), Timeout: time.Second})
	if r := wait(t, done); r.err != nil || r.attempts != 2 || calls.Load() != 2 {
		t.Fatalf("got err %v after %d attempts (%d calls), want success on the 2nd", r.err, r.attempts, calls.Load())
	}

	var bad atomic.Int32
	rejecting := webhook(t, func(w http.ResponseWriter, r *http.Request) { bad.Add(1); w.WriteHeader(http.StatusBadRequest) })
	d.Submit(Job{Provider: "ns/bad", Lane: "a", Notifier: rejecting, Event: event("a", "m"), Timeout: time.Second})
	if r := wait(t, done); r.err == nil || r.attempts != 1 || bad.Load() != 1 {
		t.Fatalf("a 400 must not be retried: err %v, %d attempts", r.err, r.attempts)
	}

	var down atomic.Int32
	failing := webhook(t, func(w http.ResponseWriter, r *http.Request) { down.Add(1); w.WriteHeader(http.StatusBadGateway) })
	d.Submit(Job{Provider: "ns/down", Lane: "a", Notifier: failing, Event: event("a", "m"), Timeout: time.Second})
	if r := wait(t, done); r.err == nil || r.attempts != fast.Attempts || int(down.Load()) != fast.Attempts {
		t.Fatalf("want %d attempts then give up, got %d (%v)", fast.Attempts, r.attempts, r.err)
	}
}

func TestAHangingProviderDoesNotDelayAnother(t *testing.T) {
	release := make(chan struct{})
	hanging := webhook(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	quick := webhook(t, func(w http.ResponseWriter, r *http.Request) {})
	d, done := harness(t, Options{Backoff: fast})
	for i := range 5 {
		d.Submit(Job{Provider: "ns/slow", Lane: "x", Notifier: hanging, Event: event("x", string(rune('a'+i))), Timeout: time.Minute})
	}
	start := time.Now()
	d.Submit(Job{Provider: "ns/quick", Lane: "x", Notifier: quick, Event: event("x", "m"), Timeout: time.Minute})
	r := wait(t, done)
	if r.job.Provider != "ns/quick" || r.err != nil {
		t.Fatalf("first finished job: %s (%v), want ns/quick", r.job.Provider, r.err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("the quick provider waited %s", elapsed)
	}
}

func TestOneObjectsNotificationsKeepTheirOrder(t *testing.T) {
	var mu sync.Mutex
	var got []string
	n := webhook(t, func(w http.ResponseWriter, r *http.Request) {
		var buf [512]byte
		k, _ := r.Body.Read(buf[:])
		mu.Lock()
		got = append(got, string(buf[:k]))
		mu.Unlock()
	})
	d, done := harness(t, Options{Backoff: fast, Lanes: 8})
	const total = 30
	for i := range total {
		d.Submit(Job{Provider: "ns/p", Lane: "GitRepository/ns/app", Notifier: n, Event: event("app", fmt.Sprintf("m%02d", i)), Timeout: time.Second})
	}
	for range total {
		wait(t, done)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, body := range got {
		if want := fmt.Sprintf(`"message":"m%02d"`, i); !strings.Contains(body, want) {
			t.Fatalf("delivery %d: %s, want %s", i, body, want)
		}
	}
}

func TestAFullQueueDropsInsteadOfGrowing(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	n := webhook(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	d, _ := harness(t, Options{Backoff: fast, Lanes: 1, QueueSize: 2})
	accepted := 0
	for range 10 {
		if d.Submit(Job{Provider: "ns/p", Lane: "x", Notifier: n, Event: event("x", "m"), Timeout: time.Minute}) {
			accepted++
		}
	}
	// One in flight (maybe), two queued.
	if accepted < 2 || accepted > 3 {
		t.Fatalf("accepted %d jobs, want 2 or 3", accepted)
	}
}

func TestIdleLanesStop(t *testing.T) {
	n := webhook(t, func(w http.ResponseWriter, r *http.Request) {})
	d, done := harness(t, Options{Backoff: fast, IdleTimeout: 20 * time.Millisecond})
	d.Submit(Job{Provider: "ns/p", Lane: "x", Notifier: n, Event: event("x", "m"), Timeout: time.Second})
	wait(t, done)
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.mu.Lock()
		left := len(d.lanes)
		d.mu.Unlock()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lanes still running", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A new job after the lane stopped starts it again.
	d.Submit(Job{Provider: "ns/p", Lane: "x", Notifier: n, Event: event("x", "m2"), Timeout: time.Second})
	if r := wait(t, done); r.err != nil {
		t.Fatal(r.err)
	}
}
