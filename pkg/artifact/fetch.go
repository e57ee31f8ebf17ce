package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"weir.dev/pkg/metrics"
)

// Fetcher defaults, used where a field is zero.
const (
	// DefaultMaxDownloadSize bounds the compressed artifact: 256 MiB.
	DefaultMaxDownloadSize int64 = 256 << 20
	// DefaultBackoff is the wait before the first retry; it doubles up to maxBackoff.
	DefaultBackoff = 500 * time.Millisecond
	maxBackoff     = 10 * time.Second
	maxRedirects   = 3
)

// defaultHTTPClient bounds the wait for response headers; the caller's context bounds the rest.
var defaultHTTPClient = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: t}
}()

var errRedirect = errors.New("redirect refused")

// Fetcher downloads artifacts from source-controller's storage, verifies their digest and
// extracts them. A Fetcher is safe for concurrent use; its fields must not change while it is
// used.
type Fetcher struct {
	// AllowedHost is host[:port] of source-controller's advertised storage address. Fetch
	// refuses a URL (or a redirect) to any other host; an empty AllowedHost refuses all.
	AllowedHost string

	// HTTPClient makes the requests; nil means a client whose transport waits at most 30s for
	// response headers. Its CheckRedirect is replaced by one that enforces AllowedHost.
	HTTPClient *http.Client

	// MaxDownloadSize bounds the compressed artifact; zero means DefaultMaxDownloadSize.
	MaxDownloadSize int64

	// Retries is how many times a transient failure (a connection error, a timeout, an
	// interrupted body, a 5xx or 429) is retried after the first attempt. Retrying stops early
	// when ctx is done. A 404 or any other 4xx is not retried: the caller requeues.
	Retries int

	// Backoff is the wait before the first retry, doubled for each next one up to 10s; zero
	// means DefaultBackoff.
	Backoff time.Duration

	// Limits bound the extraction; zero fields mean the package defaults.
	Limits Limits
}

// Fetch downloads rawURL into a temporary file through the size limit, hashing it on the way,
// checks the result against digest ("sha256:<hex>"), and only then extracts it into dir,
// which must exist and be empty. On any error dir is left empty: the caller never sees
// unverified or partially extracted content.
//
// A 404, like every non-200 answer, is an error, never an empty artifact. Errors name the URL
// without its userinfo, query or fragment. The temporary file is created in os.TempDir() and
// removed before Fetch returns.
func (f *Fetcher) Fetch(ctx context.Context, rawURL, digest, dir string) error {
	return f.fetch(ctx, rawURL, digest, dir, "")
}

// FetchReusing is Fetch extracting with ExtractReusing: files unchanged since the extraction
// at base become hard links to its files.
func (f *Fetcher) FetchReusing(ctx context.Context, rawURL, digest, dir, base string) error {
	return f.fetch(ctx, rawURL, digest, dir, base)
}

func (f *Fetcher) fetch(ctx context.Context, rawURL, digest, dir, base string) error {
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	where := redact(u)
	if f.AllowedHost == "" || !strings.EqualFold(u.Host, f.AllowedHost) {
		return fmt.Errorf("fetching %s: host %q is not the storage host %q", where, u.Host, f.AllowedHost)
	}
	want, err := ParseDigest(digest)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", where, err)
	}
	if err := checkEmpty(dir); err != nil {
		return fmt.Errorf("fetching %s: %w", where, err)
	}

	tmp, err := os.CreateTemp("", "weir-artifact-*.tar.gz")
	if err != nil {
		return fmt.Errorf("fetching %s: %w", where, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()

	got, err := f.download(ctx, u, where, tmp)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("fetching %s: digest mismatch: expected %s, got %s", where, want, got)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("fetching %s: %w", where, err)
	}
	if err := extract(tmp, dir, f.Limits, base); err != nil {
		if cerr := clearDir(dir); cerr != nil {
			return fmt.Errorf("fetching %s: %w (and cleaning up: %v)", where, err, cerr)
		}
		return fmt.Errorf("fetching %s: %w", where, err)
	}
	return nil
}

// retryable marks a transient failure.
type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// download fetches u into tmp, retrying transient failures, and returns the digest of what it
// wrote.
func (f *Fetcher) download(ctx context.Context, u *url.URL, where string, tmp *os.File) (string, error) {
	backoff := f.Backoff
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	client := f.client()
	for attempt := 0; ; attempt++ {
		digest, err := f.get(ctx, client, u, where, tmp)
		var r *retryable
		if err == nil || !errors.As(err, &r) || attempt >= f.Retries || ctx.Err() != nil {
			return digest, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// get makes one attempt: tmp is truncated, filled with the body and hashed.
func (f *Fetcher) get(ctx context.Context, client *http.Client, u *url.URL, where string, tmp *os.File) (string, error) {
	if err := tmp.Truncate(0); err != nil {
		return "", fmt.Errorf("fetching %s: %w", where, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("fetching %s: %w", where, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("fetching %s: invalid request", where)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the full URL
		}
		err = fmt.Errorf("fetching %s: %w", where, err)
		if errors.Is(err, errRedirect) || ctx.Err() != nil {
			return "", err
		}
		return "", &retryable{err}
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return "", &retryable{fmt.Errorf("fetching %s: %s", where, resp.Status)}
	default:
		return "", fmt.Errorf("fetching %s: %s", where, resp.Status)
	}

	limit := f.MaxDownloadSize
	if limit <= 0 {
		limit = DefaultMaxDownloadSize
	}
	if resp.ContentLength > limit {
		return "", fmt.Errorf("fetching %s: size %d exceeds the limit of %d bytes", where, resp.ContentLength, limit)
	}
	h := sha256.New()
	body := &readTracker{r: io.LimitReader(resp.Body, limit+1)}
	n, err := io.Copy(io.MultiWriter(tmp, h), body)
	metrics.ArtifactFetchBytes.Add(float64(n))
	if err != nil {
		err = fmt.Errorf("fetching %s: %w", where, err)
		if body.err != nil && ctx.Err() == nil {
			return "", &retryable{err} // the connection broke, not our disk
		}
		return "", err
	}
	if n > limit {
		return "", fmt.Errorf("fetching %s: size exceeds the limit of %d bytes", where, limit)
	}
	return DigestAlgorithm + ":" + hex.EncodeToString(h.Sum(nil)), nil
}

// client returns a copy of the configured client that follows redirects to AllowedHost only.
func (f *Fetcher) client() *http.Client {
	c := defaultHTTPClient
	if f.HTTPClient != nil {
		c = f.HTTPClient
	}
	cc := *c
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: more than %d redirects", errRedirect, maxRedirects)
		}
		if !strings.EqualFold(req.URL.Host, f.AllowedHost) {
			return fmt.Errorf("%w: to host %q", errRedirect, req.URL.Host)
		}
		return nil
	}
	return &cc
}

// readTracker remembers a read error, to tell a broken connection from a failing write.
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// parseURL parses an artifact URL without echoing it in errors (it may carry credentials).
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("fetching: invalid artifact URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("fetching %s: unsupported scheme %q", redact(u), u.Scheme)
	}
	return u, nil
}

// redact returns u without userinfo, query and fragment.
func redact(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}

// checkEmpty fails unless dir is an existing, empty directory.
func checkEmpty(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("directory %s is not empty (holds %s)", dir, names[0])
}

// clearDir removes everything in dir, leaving dir itself.
func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}

// Host is the host[:port] of an artifact URL, without userinfo, for logs; "" when rawURL does
// not parse.
func Host(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}
