package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Limits shared by both listeners.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 90 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 10 * time.Second
	// handlerTimeout ends a request's context, and so its reads of the cache and the API
	// server, in time for the answer to be written before writeTimeout.
	handlerTimeout = 20 * time.Second
)

// listener is the part of a Runnable that binds an address and serves until the context ends.
type listener struct {
	addr  string
	ready chan struct{}
	bound string
}

func newListener(addr string) listener {
	return listener{addr: addr, ready: make(chan struct{})}
}

// serve binds l.addr and serves h until ctx ends, then shuts down gracefully.
func (l *listener) serve(ctx context.Context, h http.Handler) error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return err
	}
	l.bound = ln.Addr().String()
	close(l.ready)
	srv := &http.Server{
		Handler:           withTimeout(h, handlerTimeout),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	stopped := make(chan error, 1)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		stopped <- srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-stopped
}

// withTimeout gives every request's context a deadline d: a handler blocked on the cache (say,
// an informer that never syncs) then ends instead of holding its slot until the client leaves.
func withTimeout(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Addr waits until the listener is bound and returns its address (host:port), or "" if ctx
// ends first.
func (l *listener) Addr(ctx context.Context) string {
	select {
	case <-l.ready:
		return l.bound
	case <-ctx.Done():
		return ""
	}
}

// NeedLeaderElection is false: every replica serves.
func (l *listener) NeedLeaderElection() bool { return false }
