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
		Handler:           h,
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
