package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"weir.dev/notification-controller/internal/egress"
)

// userAgent identifies Weir to the destinations.
const userAgent = "weir-notification-controller"

// maxResponseBytes bounds how much of a response is read.
const maxResponseBytes = 64 << 10

// DefaultClient is the client of Configs without one: proxies from the environment, keep-alive
// connections shared by every notifier, and the strictest egress policy (no cluster-internal
// addresses).
var DefaultClient = NewClient(nil, &egress.Policy{})

// NewClient returns a client whose every connection, redirects included, passes policy; see
// NewTransport.
func NewClient(proxy *url.URL, policy *egress.Policy) *http.Client {
	return &http.Client{Transport: NewTransport(proxy, policy), CheckRedirect: egress.CheckRedirect}
}

// NewTransport returns a transport with Weir's connection limits that dials only addresses
// policy allows and, when proxy is not nil, goes through that proxy; with a nil proxy it uses the
// environment's (HTTPS_PROXY, NO_PROXY). Either way policy checks the destinations sent through
// a proxy.
func NewTransport(proxy *url.URL, policy *egress.Policy) *http.Transport {
	t := &http.Transport{
		Proxy:                 policy.Proxy(http.ProxyFromEnvironment),
		DialContext:           policy.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if proxy != nil {
		t.Proxy = policy.Proxy(http.ProxyURL(proxy))
	}
	return t
}

// poster sends requests for one notifier and keeps its secrets out of every error.
type poster struct {
	client  *http.Client
	secrets []string
}

func newPoster(c *Config) *poster {
	client := c.Client
	if client == nil {
		client = DefaultClient
	}
	// Whatever client the Config brings, credentials stay on their origin across redirects.
	bounded := *client
	bounded.CheckRedirect = egress.CheckRedirect
	return &poster{client: &bounded, secrets: c.secrets()}
}

// request describes one HTTP call.
type request struct {
	method string // POST when empty
	url    string
	body   any // marshalled as JSON unless raw is set
	raw    []byte
	header http.Header
	// user and password, when user is set, authenticate with basic auth.
	user, password string
}

// do sends r and returns the response body (at most maxResponseBytes). A non-2xx answer is a
// *StatusError. No error contains r.url, a header value or another secret of the poster.
func (p *poster) do(ctx context.Context, r request) ([]byte, error) {
	payload := r.raw
	if payload == nil && r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, permanentf("encoding the payload: %v", err)
		}
		payload = b
	}
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, r.url, bytes.NewReader(payload))
	if err != nil {
		// url.Parse errors quote the URL, which may hold a token.
		return nil, permanentf("the address is not a valid URL")
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", userAgent)
	if r.user != "" {
		req.SetBasicAuth(r.user, r.password)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, p.transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return body, &StatusError{Code: resp.StatusCode, Detail: p.excerpt(body), RetryAfter: retryAfter(resp)}
	}
	return body, nil
}

// transportError describes a failed round trip without the URL that url.Error quotes.
func (p *poster) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("no answer: %w", ctx.Err())
	}
	var refused *egress.RefusedError
	if errors.As(err, &refused) {
		// Asking again reaches the same address: not retryable.
		return permanentf("refused to connect: %s", p.scrub(refused.Error()))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("sending the request: %s", p.scrub(err.Error()))
}

// excerpt returns the start of a response body on one line, scrubbed of secrets.
func (p *poster) excerpt(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return p.scrub(s)
}

// scrub replaces every secret of the poster found in s. Very short values are left alone: they
// cannot be told from ordinary words.
func (p *poster) scrub(s string) string {
	for _, secret := range p.secrets {
		if len(secret) >= 6 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// retryAfter parses a Retry-After header in seconds; zero when absent or a date.
func retryAfter(resp *http.Response) time.Duration {
	if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}
