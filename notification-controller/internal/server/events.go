package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/notification-controller/internal/dispatch"
	"weir.dev/notification-controller/internal/provider"
)

// MaxEventBytes bounds an event's body.
const MaxEventBytes = 512 << 10

// maxDedupEntries bounds the deduplication memory (about 64 bytes an entry).
const maxDedupEntries = 100_000

// EventServerOptions configure an EventServer.
type EventServerOptions struct {
	// Addr to listen on, e.g. ":9090".
	Addr string
	// Client reads Alerts, Providers, their Secrets and the involved objects (the manager's
	// cached client).
	Client client.Reader
	// Clients shares HTTP clients among Providers.
	Clients *provider.Clients
	// CrossNamespace lets Alerts select objects in other namespaces (off with
	// --no-cross-namespace-refs).
	CrossNamespace bool
	// DedupWindow: an event equal to one seen within it is answered 429 and not routed.
	// Zero turns deduplication off.
	DedupWindow time.Duration
	// RateLimit is the most events a second the server takes, with bursts of RateBurst; past
	// it, requests get 503 and Retry-After. Zero or less means no limit.
	RateLimit float64
	RateBurst int
	// MaxConcurrent bounds the events being read and routed at once (default 64); with
	// MaxEventBytes it bounds the memory bodies take. Past it requests get 503.
	MaxConcurrent int
	// Dispatch configures delivery (queues and retries).
	Dispatch dispatch.Options
	Log      logr.Logger
}

// EventServer takes the events the other controllers POST and routes them to Providers. Run
// it with Start (it is a manager Runnable).
type EventServer struct {
	listener
	opts       EventServerOptions
	limiter    *rate.Limiter
	dedup      *dedup
	slots      chan struct{}
	alerts     *alertCache
	dispatcher *dispatch.Dispatcher
}

// NewEventServer returns an EventServer; it listens once started.
func NewEventServer(opts EventServerOptions) *EventServer {
	limit := rate.Inf
	if opts.RateLimit > 0 {
		limit = rate.Limit(opts.RateLimit)
	}
	if opts.RateBurst <= 0 {
		opts.RateBurst = max(1, int(2*opts.RateLimit))
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 64
	}
	return &EventServer{
		listener: newListener(opts.Addr),
		opts:     opts,
		limiter:  rate.NewLimiter(limit, opts.RateBurst),
		dedup:    newDedup(opts.DedupWindow, maxDedupEntries),
		slots:    make(chan struct{}, opts.MaxConcurrent),
		alerts:   newAlertCache(),
	}
}

// Start serves until ctx ends, then waits for deliveries in flight to stop.
func (s *EventServer) Start(ctx context.Context) error {
	s.dispatcher = dispatch.New(ctx, s.opts.Log, s.opts.Dispatch)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", s.handleEvent)
	err := s.serve(ctx, mux)
	s.dispatcher.Wait()
	return err
}

// handleEvent answers 202 when the event was taken (routed to zero or more Providers), 400
// when it is malformed, 413 when too large, 429 when it is a duplicate (the contract of
// github.com/fluxcd/pkg/runtime/events, which then does not retry) and 503 when the server is
// over its rate limit or its concurrency limit (the sender retries later).
func (s *EventServer) handleEvent(w http.ResponseWriter, r *http.Request) {
	if !s.limiter.Allow() {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many events: retry later", http.StatusServiceUnavailable)
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy: retry later", http.StatusServiceUnavailable)
		return
	}
	e, status, err := decodeEvent(w, r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	cleanMetadata(e)
	if s.dedup.seenRecently(eventKey(e), time.Now()) {
		http.Error(w, "duplicate event", http.StatusTooManyRequests)
		return
	}
	routed := s.route(r.Context(), e)
	s.opts.Log.V(1).Info("event routed", "object", objectRef(e), "reason", e.Reason, "providers", routed)
	w.WriteHeader(http.StatusAccepted)
}

// decodeEvent reads one event from r, bounded by MaxEventBytes, and checks it names an object
// and carries a severity, a reason and a message.
func decodeEvent(w http.ResponseWriter, r *http.Request) (*eventv1.Event, int, error) {
	if r.ContentLength > MaxEventBytes {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("event larger than %d bytes", MaxEventBytes)
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("content encoding %q is not accepted", enc)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxEventBytes))
	e := &eventv1.Event{}
	if err := dec.Decode(e); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("event larger than %d bytes", MaxEventBytes)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("the body is not an event in JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, http.StatusBadRequest, errors.New("the body holds more than one JSON value")
	}
	var missing []string
	o := e.InvolvedObject
	for field, v := range map[string]string{"involvedObject.kind": o.Kind, "involvedObject.name": o.Name,
		"involvedObject.namespace": o.Namespace, "reason": e.Reason, "message": e.Message} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		return nil, http.StatusBadRequest, fmt.Errorf("the event lacks %s", strings.Join(sorted(missing), ", "))
	}
	if e.Severity != eventv1.EventSeverityInfo && e.Severity != eventv1.EventSeverityError {
		return nil, http.StatusBadRequest, fmt.Errorf("severity %q is not info or error", e.Severity)
	}
	return e, 0, nil
}

// cleanMetadata keeps the metadata meant for notifications, with short keys: keys prefixed
// with the involved object's API group or the Flux event group lose the prefix, bare keys stay,
// keys of other groups and the artifact's checksum and digest go.
func cleanMetadata(e *eventv1.Event) {
	if len(e.Metadata) == 0 {
		return
	}
	group, _, _ := strings.Cut(e.InvolvedObject.APIVersion, "/")
	out := make(map[string]string, len(e.Metadata))
	for k, v := range e.Metadata {
		prefix, key, prefixed := strings.Cut(k, "/")
		switch {
		case !prefixed:
			key = k
		case prefix == group || prefix == eventv1.Group:
		default:
			continue
		}
		if key == eventv1.MetaChecksumKey || key == eventv1.MetaDigestKey || key == "" {
			continue
		}
		out[key] = v
	}
	e.Metadata = out
}

func sorted(s []string) []string { sort.Strings(s); return s }

func objectRef(e *eventv1.Event) string {
	o := e.InvolvedObject
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}
