package notifier

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
)

// Event is what a Notifier delivers: the event as posted by a controller, its metadata already
// cleaned and merged with the Alert's, and what the notification-controller worked out about it.
type Event struct {
	eventv1.Event
	// CommitURL links the event's revision to its commit page when the source URL allows one;
	// empty otherwise.
	CommitURL string `json:"-"`
}

// Notifier delivers events to one destination.
type Notifier interface {
	// Post delivers e once. It returns nil when the destination accepted it, or when the event is
	// not for this kind of destination (a commit-status notifier skips events without a commit).
	// Errors never contain secrets; Retryable classifies them.
	Post(ctx context.Context, e *Event) error
}

// Config is a Provider with its Secrets resolved: everything New needs to build a Notifier.
type Config struct {
	// Type is a Provider spec.type, e.g. "slack".
	Type string
	// Address is the webhook or API URL (for commit-status types, the repository URL). It may
	// embed a credential, so it is treated as a secret.
	Address string
	// Token is the API or bot token, or the HMAC key of generic-hmac. Secret.
	Token string
	// BasicUser and BasicPassword authenticate with HTTP basic auth where the type supports it.
	// The password is secret.
	BasicUser, BasicPassword string
	// Headers are extra HTTP headers (generic and generic-hmac). Their values are secret.
	Headers map[string]string
	// Channel is the channel, or for telegram the chat ID.
	Channel string
	// Sender is the user name to post as (spec.username).
	Sender string
	// Client sends the requests; New uses DefaultClient when nil. Its transport decides which
	// addresses are reached (NewClient's applies an egress policy). Its Timeout, if any, is
	// ignored: Post callers bound each delivery with their context. Its CheckRedirect is replaced
	// by egress.CheckRedirect.
	Client *http.Client
}

// secrets returns every secret string of c, for scrubbing error messages: the token, the
// passwords, the header values, and the address with the parts of it that may carry a credential
// (its path, long path segments, query values and userinfo), since a server may echo any of them.
func (c *Config) secrets() []string {
	s := []string{c.Address, c.Token, c.BasicPassword}
	if c.BasicPassword != "" {
		// The Authorization header of basic auth, which a server may echo.
		s = append(s, base64.StdEncoding.EncodeToString([]byte(c.BasicUser+":"+c.BasicPassword)))
	}
	for _, v := range c.Headers {
		s = append(s, v)
	}
	if u, err := url.Parse(c.Address); err == nil {
		s = append(s, u.Path, u.EscapedPath(), u.RawQuery)
		if p, ok := u.User.Password(); ok {
			s = append(s, p)
		}
		// A Sentry DSN's key is its user name.
		s = append(s, u.User.Username())
		for _, seg := range strings.Split(u.Path, "/") {
			if len(seg) >= 12 {
				s = append(s, seg)
			}
		}
		for _, vs := range u.Query() {
			s = append(s, vs...)
		}
	}
	// Longest first, so that a secret containing another is replaced whole.
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	return s
}

// StatusError is a response the destination answered with a status other than 2xx, or a 2xx
// whose body reported a failure (Slack's and Telegram's "ok": false).
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Detail is a short, single-line excerpt of the response, scrubbed of secrets.
	Detail string
	// RetryAfter is the delay the destination asked for (Retry-After), zero if none.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("the server answered %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("the server answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Detail)
}

// permanentError is a failure no retry can fix: a request that cannot be built.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

func permanentf(format string, args ...any) error {
	return &permanentError{msg: fmt.Sprintf(format, args...)}
}

// Retryable reports whether a delivery that failed with err may succeed when tried again:
// network failures, timeouts, 408, 429 and 5xx answers are; other 4xx answers and errors in
// building the request are not.
func Retryable(err error) bool {
	var pe *permanentError
	if err == nil || errors.As(err, &pe) {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusRequestTimeout || se.Code == http.StatusTooManyRequests || se.Code >= 500
	}
	return true
}

// RetryAfter returns the delay a StatusError in err asked for, or zero.
func RetryAfter(err error) time.Duration {
	var se *StatusError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}
