package testenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// FaultMode is what a FaultProxy answers a request it picks for a fault.
type FaultMode string

const (
	// TooManyRequests answers 429 with Retry-After, as an API server shedding load does.
	TooManyRequests FaultMode = "TooManyRequests"
	// InternalError answers 500, as an API server whose etcd fails does.
	InternalError FaultMode = "InternalError"
	// Hang answers nothing until the client gives up (its context or timeout ends the request)
	// or the fault's window ends; then it answers 504, as the API server's own request timeout
	// does.
	Hang FaultMode = "Hang"
)

// FaultMessage starts the message of every answer a FaultProxy makes up, so a test can tell
// an injected failure in a condition, event or log from any other.
const FaultMessage = "weir fault proxy"

// Fault is a window of failures a FaultProxy injects.
type Fault struct {
	// Mode is the answer.
	Mode FaultMode
	// Fraction of the matching requests that fail, from 0 to 1; 0 means all of them.
	Fraction float64
	// For is how long the window lasts, from Inject; it ends by itself.
	For time.Duration
	// Clients, if set, limits the fault to these clients (the names given to Kubeconfig).
	Clients []string
	// Spare, if set, exempts the requests it returns true for, e.g. Lease renewals, which API
	// Priority and Fairness serves at a level of their own.
	Spare func(*http.Request) bool
	// RetryAfter is the Retry-After of TooManyRequests, in whole seconds; 1 when zero.
	RetryAfter int
}

// Request is one mutating request (not GET, HEAD or OPTIONS) a FaultProxy passed on or failed.
type Request struct {
	// Client is the name its kubeconfig was issued for.
	Client string
	// Method, Path and DryRun are its method, URL path and whether it was a dry run.
	Method, Path string
	DryRun       bool
	// Start and End are when the proxy received it and when it answered (or the client left).
	Start, End time.Time
	// Status is the status code answered; 0 when the client left before an answer.
	Status int
	// Injected is true when the proxy failed it on purpose.
	Injected bool
}

// maxRecorded bounds the requests a FaultProxy records.
const maxRecorded = 200_000

// FaultProxy is a reverse proxy on 127.0.0.1 in front of a kube-apiserver that fails requests on
// demand, for tests of how controllers ride through an API server that sheds load, errs or
// stalls. It terminates TLS with a certificate of its own and admits only the clients it issued a
// kubeconfig to (each with its own bearer token, so it can tell them apart); it reaches the API
// server with the credentials of the upstream config. It stops when its context ends or Close is
// called, and every fault window ends by itself.
type FaultProxy struct {
	// URL is the proxy's https URL.
	URL string

	caPEM    []byte
	srv      *http.Server
	proxy    *httputil.ReverseProxy
	mu       sync.Mutex
	tokens   map[string]string // token -> client
	fault    *Fault
	ends     time.Time
	ended    chan struct{} // closed when the current window ends
	injected map[FaultMode]int
	recorded []Request
	stop     context.CancelFunc
	done     chan struct{}
}

// StartFaultProxy starts a FaultProxy in front of the API server upstream reaches, with
// upstream's credentials. It runs until ctx ends or Close.
func StartFaultProxy(ctx context.Context, upstream *rest.Config) (*FaultProxy, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, fmt.Errorf("upstream host %q: %w", upstream.Host, err)
	}
	transport, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, err
	}
	cert, caPEM, err := selfSignedLoopbackCert()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(ctx)
	p := &FaultProxy{
		URL:      "https://" + l.Addr().String(),
		caPEM:    caPEM,
		tokens:   map[string]string{},
		injected: map[FaultMode]int{},
		stop:     stop,
		done:     make(chan struct{}),
	}
	p.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			// The client's token is the proxy's; the upstream transport adds the real credentials.
			r.Out.Header.Del("Authorization")
		},
		Transport: transport,
		// Watches stream: pass every event on at once.
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				writeStatus(w, http.StatusBadGateway, "ServiceUnavailable", FaultMessage+": upstream: "+err.Error(), 0)
			}
		},
	}
	p.srv = &http.Server{
		Handler:           http.HandlerFunc(p.serve),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}},
		ReadHeaderTimeout: 30 * time.Second,
		// Clients that are killed leave broken handshakes behind; that is expected here.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { _ = p.srv.ServeTLS(l, "", "") }()
	go func() {
		<-ctx.Done()
		_ = p.srv.Close()
		close(p.done)
	}()
	return p, nil
}

// Close stops the proxy and drops its connections.
func (p *FaultProxy) Close() {
	p.stop()
	<-p.done
}

// Kubeconfig returns a kubeconfig that reaches the API server through the proxy as client, a
// name the proxy records and Fault.Clients selects by. Calling it again for the same name
// issues another token for the same client.
func (p *FaultProxy) Kubeconfig(client string) ([]byte, error) {
	token := make([]byte, 24)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	t := hex.EncodeToString(token)
	p.mu.Lock()
	p.tokens[t] = client
	p.mu.Unlock()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["fault-proxy"] = &clientcmdapi.Cluster{Server: p.URL, CertificateAuthorityData: p.caPEM}
	cfg.AuthInfos[client] = &clientcmdapi.AuthInfo{Token: t}
	cfg.Contexts["fault-proxy"] = &clientcmdapi.Context{Cluster: "fault-proxy", AuthInfo: client}
	cfg.CurrentContext = "fault-proxy"
	return clientcmd.Write(*cfg)
}

// Tokens returns every bearer token the proxy issued, for tests that check none leaks.
func (p *FaultProxy) Tokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ts []string
	for t := range p.tokens {
		ts = append(ts, t)
	}
	return ts
}

// Inject starts a window of f, replacing any window still open; it ends f.For from now.
func (p *FaultProxy) Inject(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended != nil {
		close(p.ended)
	}
	p.fault, p.ends, p.ended = &f, time.Now().Add(f.For), make(chan struct{})
	ended := p.ended
	time.AfterFunc(f.For, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.ended == ended {
			close(p.ended)
			p.fault, p.ended = nil, nil
		}
	})
}

// Injected returns how many requests the proxy failed on purpose, by mode, since it started.
func (p *FaultProxy) Injected() map[FaultMode]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[FaultMode]int{}
	for m, n := range p.injected {
		out[m] = n
	}
	return out
}

// Requests returns the mutating requests recorded so far (at most the first 200,000), in the
// order they were answered.
func (p *FaultProxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.recorded...)
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	client, ok := p.tokens[token]
	p.mu.Unlock()
	if !ok || token == "" {
		writeStatus(w, http.StatusUnauthorized, "Unauthorized", FaultMessage+": unknown client", 0)
		return
	}
	rec := &Request{Client: client, Method: r.Method, Path: r.URL.Path, Start: time.Now(),
		DryRun: r.URL.Query().Get("dryRun") != ""}
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return
		}
		rec.End, rec.Status = time.Now(), sw.status
		p.mu.Lock()
		if len(p.recorded) < maxRecorded {
			p.recorded = append(p.recorded, *rec)
		}
		p.mu.Unlock()
	}()
	if f, ended := p.pick(client, r); f != nil {
		rec.Injected = true
		p.fail(sw, r, f, ended)
		return
	}
	p.proxy.ServeHTTP(sw, r)
}

// pick returns the open fault when it applies to r of client, and its window's end.
func (p *FaultProxy) pick(client string, r *http.Request) (*Fault, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fault
	if f == nil || (len(f.Clients) > 0 && !slices.Contains(f.Clients, client)) || (f.Spare != nil && f.Spare(r)) {
		return nil, nil
	}
	if f.Fraction > 0 && f.Fraction < 1 && mathrand.Float64() >= f.Fraction {
		return nil, nil
	}
	p.injected[f.Mode]++
	return f, p.ended
}

func (p *FaultProxy) fail(w http.ResponseWriter, r *http.Request, f *Fault, ended <-chan struct{}) {
	switch f.Mode {
	case TooManyRequests:
		after := max(f.RetryAfter, 1)
		writeStatus(w, http.StatusTooManyRequests, "TooManyRequests",
			FaultMessage+": injected 429, too many requests", after)
	case InternalError:
		writeStatus(w, http.StatusInternalServerError, "InternalError",
			FaultMessage+": injected 500, internal error", 0)
	case Hang:
		select {
		case <-r.Context().Done():
		case <-ended:
			writeStatus(w, http.StatusGatewayTimeout, "Timeout",
				FaultMessage+": injected stall, the server did not answer in time", 0)
		}
	}
}

// writeStatus answers with a Kubernetes Status, as the API server fails a request.
func writeStatus(w http.ResponseWriter, code int, reason, message string, retryAfter int) {
	status := map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code,
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		status["details"] = map[string]any{"retryAfterSeconds": retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(status)
}

// statusWriter remembers the status code written; it passes Flush on for watches.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// selfSignedLoopbackCert returns a certificate for 127.0.0.1, valid for a day, and its PEM,
// which clients trust as their CA.
func selfSignedLoopbackCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "weir fault proxy"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		return tls.Certificate{}, nil, errors.Join(errors.New("self-signed certificate"), err)
	}
	return cert, certPEM, nil
}

// SpareLeases is a Fault.Spare that exempts leader election's Leases.
func SpareLeases(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/apis/coordination.k8s.io/")
}
