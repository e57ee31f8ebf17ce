package server

import (
	"context"
	"net/http"

	"weir.dev/pkg/metrics"
)

// requestTypeKey holds, in a webhook request's context, where handleHook writes the type of the
// Receiver it found.
type requestTypeKey struct{}

// countRequests wraps the webhook handler: each request is added to
// weir_receiver_requests_total with its Receiver's type ("unknown" when none was found) and the
// outcome of the status it was answered.
func countRequests(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		typ := "unknown"
		sw := &codeWriter{ResponseWriter: w, code: http.StatusOK}
		next(sw, r.WithContext(context.WithValue(r.Context(), requestTypeKey{}, &typ)))
		metrics.ReceiverRequests.WithLabelValues(typ, metrics.RequestOutcome(sw.code)).Inc()
	})
}

// setRequestType records the Receiver type of the request whose context is ctx.
func setRequestType(ctx context.Context, typ string) {
	if p, ok := ctx.Value(requestTypeKey{}).(*string); ok {
		*p = typ
	}
}

// codeWriter remembers the status written.
type codeWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (c *codeWriter) WriteHeader(code int) {
	if !c.wrote {
		c.code, c.wrote = code, true
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *codeWriter) Write(b []byte) (int, error) {
	c.wrote = true
	return c.ResponseWriter.Write(b)
}

func (c *codeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
