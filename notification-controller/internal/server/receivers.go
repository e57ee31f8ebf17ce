package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/notifier"
	"weir.dev/notification-controller/internal/receiver"
)

// WebhookPathIndex indexes Receivers by status.webhookPath; the receiver server finds the
// Receiver of a request with it. Register it with IndexWebhookPath.
const WebhookPathIndex = ".status.webhookPath"

// IndexWebhookPath registers WebhookPathIndex.
func IndexWebhookPath(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &notificationv1.Receiver{}, WebhookPathIndex, func(o client.Object) []string {
		if p := o.(*notificationv1.Receiver).Status.WebhookPath; p != "" {
			return []string{p}
		}
		return nil
	})
}

// Defaults of ReceiverServerOptions.
const (
	DefaultMaxWebhookBytes = 4 << 20
	DefaultMaxConcurrent   = 16
	DefaultReceiverRate    = 50
)

// ReceiverServerOptions configure a ReceiverServer.
type ReceiverServerOptions struct {
	// Addr to listen on, e.g. ":9292".
	Addr string
	// Client finds Receivers (with WebhookPathIndex) and their Secrets, and patches the objects
	// to reconcile (the manager's client).
	Client client.Client
	// Reader reads the objects to reconcile; the manager's API reader, so that the controller
	// does not cache every Weir object.
	Reader client.Reader
	// CrossNamespace lets Receivers reconcile objects in other namespaces (off with
	// --no-cross-namespace-refs).
	CrossNamespace bool
	// MaxBodyBytes bounds a request body (default DefaultMaxWebhookBytes).
	MaxBodyBytes int64
	// MaxConcurrent bounds the requests handled at once (default DefaultMaxConcurrent); with
	// MaxBodyBytes it bounds the memory bodies take. Past it requests get 503.
	MaxConcurrent int
	// RateLimit is the most requests a second (default DefaultReceiverRate), with bursts of
	// twice that; past it requests get 429.
	RateLimit float64
	// IDTokens verifies the bearer ID tokens of generic-oidc and gcr Receivers; by default
	// its client reaches no cluster-internal address (notifier.DefaultClient).
	IDTokens *receiver.IDTokens
	Log      logr.Logger
}

// ReceiverServer takes webhooks at Receivers' paths and asks their resources to reconcile.
// Run it with Start (it is a manager Runnable).
type ReceiverServer struct {
	listener
	opts    ReceiverServerOptions
	limiter *rate.Limiter
	slots   chan struct{}
}

// NewReceiverServer returns a ReceiverServer; it listens once started.
func NewReceiverServer(opts ReceiverServerOptions) *ReceiverServer {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxWebhookBytes
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = DefaultReceiverRate
	}
	if opts.IDTokens == nil {
		opts.IDTokens = receiver.NewIDTokens(notifier.DefaultClient)
	}
	return &ReceiverServer{
		listener: newListener(opts.Addr),
		opts:     opts,
		limiter:  rate.NewLimiter(rate.Limit(opts.RateLimit), int(2*opts.RateLimit)),
		slots:    make(chan struct{}, opts.MaxConcurrent),
	}
}

// Start serves until ctx ends.
func (s *ReceiverServer) Start(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle(notificationv1.ReceiverWebhookPathPrefix, countRequests(s.handleHook))
	return s.serve(ctx, mux)
}

// gzipMagic starts every gzip stream; compressed bodies are refused whatever the headers say,
// so a small body cannot expand into a large one anywhere downstream.
var gzipMagic = []byte{0x1f, 0x8b}

// handleHook answers 200 when the request was authenticated (and the resources annotated,
// unless the request was a ping, a filtered event or the Receiver is suspended); 401 for a
// bad signature or token; 400 for a body the type cannot parse; 404 for a path no Receiver
// has; 405, 413, 415, 429 and 503 for requests the server will not read.
func (s *ReceiverServer) handleHook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST is accepted", http.StatusMethodNotAllowed)
		return
	}
	if !s.limiter.Allow() {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
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
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		http.Error(w, "compressed bodies are not accepted", http.StatusUnsupportedMediaType)
		return
	}
	if r.ContentLength > s.opts.MaxBodyBytes {
		http.Error(w, fmt.Sprintf("body larger than %d bytes", s.opts.MaxBodyBytes), http.StatusRequestEntityTooLarge)
		return
	}
	ctx := r.Context()
	rcv, token, found := s.lookup(ctx, r.URL.Path)
	if !found {
		http.Error(w, "no receiver at this path", http.StatusNotFound)
		return
	}
	setRequestType(ctx, rcv.Spec.Type)
	log := s.opts.Log.WithValues("receiver", rcv.Namespace+"/"+rcv.Name, "type", rcv.Spec.Type)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, fmt.Sprintf("body larger than %d bytes", s.opts.MaxBodyBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "the body could not be read", http.StatusBadRequest)
		return
	}
	if bytes.HasPrefix(body, gzipMagic) {
		http.Error(w, "compressed bodies are not accepted", http.StatusUnsupportedMediaType)
		return
	}
	res, err := s.verify(ctx, rcv, token, r.Header, body)
	if err != nil {
		status := http.StatusBadRequest
		var rerr *receiver.Error
		if errors.As(err, &rerr) {
			status = rerr.Status
		}
		log.Info("request rejected", "status", status, "error", err.Error())
		http.Error(w, err.Error(), status)
		return
	}
	switch {
	case rcv.Spec.Suspend:
		writeText(w, http.StatusOK, "receiver suspended: nothing reconciled")
	case res.Ignored != "":
		writeText(w, http.StatusOK, "ignored: "+res.Ignored)
	default:
		n, err := s.annotate(ctx, rcv, res.Payload)
		if err != nil {
			log.Error(err, "requesting reconciles", "annotated", n)
			http.Error(w, fmt.Sprintf("%d objects asked to reconcile; errors: %v", n, err), http.StatusInternalServerError)
			return
		}
		log.Info("reconcile requested", "objects", n)
		writeText(w, http.StatusOK, fmt.Sprintf("%d objects asked to reconcile", n))
	}
}

// lookup finds the Receiver whose webhook path is path and whose current token still yields
// it, so that a path published before the token changed no longer works.
func (s *ReceiverServer) lookup(ctx context.Context, path string) (*notificationv1.Receiver, string, bool) {
	list := &notificationv1.ReceiverList{}
	if err := s.opts.Client.List(ctx, list, client.MatchingFields{WebhookPathIndex: path}); err != nil {
		s.opts.Log.Error(err, "listing Receivers")
		return nil, "", false
	}
	for i := range list.Items {
		rcv := &list.Items[i]
		token, err := receiver.ReadToken(ctx, s.opts.Client, rcv)
		if err == nil && rcv.GetWebhookPath(token) == path {
			return rcv, token, true
		}
	}
	return nil, "", false
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
