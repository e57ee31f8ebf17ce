package ui

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// guard protects every request: the Host must be the loopback address the server listens on
// (no DNS rebinding), and a POST must carry the page's token and come from the UI's own
// origin (no cross-site requests). Every response forbids framing and foreign scripts.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if !s.hostAllowed(r.Host) {
			http.Error(w, fmt.Sprintf("unexpected Host %q: the UI answers on %s only", r.Host, s.addr), http.StatusMisdirectedRequest)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10) // an action's form is a token
			if err := s.checkOrigin(r); err != nil {
				http.Error(w, "forbidden: "+err.Error(), http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed accepts the listening address under the names of loopback.
func (s *Server) hostAllowed(host string) bool {
	_, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		return false
	}
	for _, name := range []string{"127.0.0.1", "localhost"} {
		if host == net.JoinHostPort(name, port) {
			return true
		}
	}
	return false
}

// checkOrigin rejects requests another site could have made: no token, a wrong token, or an
// Origin or Sec-Fetch-Site that is not the UI's own.
func (s *Server) checkOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fmt.Errorf("a %s request", site)
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != "http://"+r.Host {
		return fmt.Errorf("origin %q is not the UI's", origin)
	}
	token := r.Header.Get("X-Weir-Token")
	if token == "" {
		token = r.PostFormValue("token")
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
		return errors.New("the request lacks the page's token; reload the page")
	}
	return nil
}
