package helmrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"helm.sh/helm/v3/pkg/repo"
)

// Default size limits.
const (
	// DefaultMaxIndexSize bounds a downloaded index.yaml: 50 MiB.
	DefaultMaxIndexSize int64 = 50 << 20
	// DefaultMaxChartSize bounds a downloaded chart archive: 10 MiB.
	DefaultMaxChartSize int64 = 10 << 20
)

// ErrAuthentication is wrapped by errors from responses 401 and 403.
var ErrAuthentication = errors.New("authentication failed")

// ErrTooLarge is wrapped by errors from downloads over their size limit.
var ErrTooLarge = errors.New("over the size limit")

// Client downloads from one repository.
type Client struct {
	// URL is the repository's URL: index.yaml is at URL/index.yaml.
	URL *url.URL
	// HTTP is the client to use; see transport.NewClient.
	HTTP *http.Client
	// Username and Password are sent as basic auth when Username is set.
	Username, Password string
	// PassCredentials sends the credentials to hosts other than URL's too.
	PassCredentials bool
}

// IndexURL returns the URL of the repository's index.yaml.
func (c *Client) IndexURL() *url.URL {
	u := *c.URL
	u.Path = strings.TrimSuffix(u.Path, "/") + "/index.yaml"
	u.RawPath = ""
	return &u
}

// FetchIndex downloads index.yaml, failing when it is larger than maxSize bytes.
func (c *Client) FetchIndex(ctx context.Context, maxSize int64) ([]byte, error) {
	return c.get(ctx, c.IndexURL(), "index.yaml", maxSize)
}

// ChartURL resolves the first URL of a chart version against the repository URL: absolute
// URLs are used as they are, relative ones are relative to the repository's directory.
func (c *Client) ChartURL(cv *repo.ChartVersion) (*url.URL, error) {
	if len(cv.URLs) == 0 || cv.URLs[0] == "" {
		return nil, fmt.Errorf("chart '%s' version '%s' has no download URL in the index", cv.Name, cv.Version)
	}
	ref, err := url.Parse(cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("chart '%s' version '%s' has an invalid download URL", cv.Name, cv.Version)
	}
	base := *c.URL
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		base.RawPath = ""
	}
	u := base.ResolveReference(ref)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("chart '%s' version '%s': download URL scheme %q is not http(s)", cv.Name, cv.Version, u.Scheme)
	}
	return u, nil
}

// FetchChart downloads a chart version's archive, failing when it is larger than maxSize bytes.
func (c *Client) FetchChart(ctx context.Context, cv *repo.ChartVersion, maxSize int64) ([]byte, error) {
	u, err := c.ChartURL(cv)
	if err != nil {
		return nil, err
	}
	return c.get(ctx, u, fmt.Sprintf("chart '%s' version '%s'", cv.Name, cv.Version), maxSize)
}

// get downloads u, with the credentials when u is on the repository's host or
// PassCredentials is set. what names the download in errors.
func (c *Client) get(ctx context.Context, u *url.URL, what string, maxSize int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if c.Username != "" && (c.PassCredentials || u.Host == c.URL.Host) {
		req.SetBasicAuth(c.Username, c.Password)
	}
	req.Header.Set("User-Agent", "weir-source-controller")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s from %s: %w", what, Redact(u), unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("fetching %s from %s: %w (HTTP %d)", what, Redact(u), ErrAuthentication, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetching %s from %s: HTTP %d", what, Redact(u), resp.StatusCode)
	case resp.ContentLength > maxSize:
		return nil, fmt.Errorf("%s is %d bytes: %w of %d bytes", what, resp.ContentLength, ErrTooLarge, maxSize)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s from %s: %w", what, Redact(u), unwrapURLError(err))
	}
	if int64(len(data)) > maxSize {
		return nil, fmt.Errorf("%s is %w of %d bytes", what, ErrTooLarge, maxSize)
	}
	return data, nil
}

// unwrapURLError drops *url.Error's wrapping, whose message repeats the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Redact returns u as a string without userinfo, query or fragment.
func Redact(u *url.URL) string {
	r := *u
	r.User = nil
	r.RawQuery = ""
	r.Fragment = ""
	return r.String()
}
