package notifier

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// sentry sends each event to the Sentry project of the DSN in the address
// (https://<public key>@<host>/<project id>) as a Sentry event in an envelope
// (POST /api/<project id>/envelope/), at level error or info. The event ID is derived from the
// event, so Sentry drops a retried delivery as a duplicate; the fingerprint is the object and
// reason, so repeated failures group into one issue.
type sentry struct {
	p   *poster
	url string
	// auth is the X-Sentry-Auth header, which carries the DSN's public key.
	auth string
}

func newSentry(c *Config) (*sentry, error) {
	u, err := url.Parse(c.Address)
	if err != nil {
		return nil, errInvalidAddress
	}
	key := u.User.Username()
	path := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndex(path, "/")
	if key == "" || i < 0 || path[i+1:] == "" {
		return nil, fmt.Errorf("a sentry address must be the project's DSN, https://<public key>@<host>/<project id>")
	}
	project, prefix := path[i+1:], path[:i]
	if _, err := strconv.ParseUint(project, 10, 64); err != nil {
		return nil, fmt.Errorf("a sentry address must be the project's DSN, https://<public key>@<host>/<project id>: the project ID is not a number")
	}
	return &sentry{
		p:    newPoster(c),
		url:  u.Scheme + "://" + u.Host + prefix + "/api/" + project + "/envelope/",
		auth: "Sentry sentry_version=7, sentry_client=" + userAgent + ", sentry_key=" + key,
	}, nil
}

// Post implements Notifier.
func (s *sentry) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	o := e.InvolvedObject
	ts := e.Timestamp.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	sum := sha256.Sum256([]byte(objectKey(e) + "\n" + strconv.FormatInt(ts.UnixNano(), 10) + "\n" + e.Reason + "\n" + e.Message))
	id := hex.EncodeToString(sum[:16])
	level := "info"
	if m.Error {
		level = "error"
	}
	tags := map[string]string{"kind": o.Kind, "namespace": o.Namespace, "name": o.Name, "reason": m.Reason}
	extra := map[string]string{}
	for _, f := range m.Fields {
		extra[f.Key] = f.Value
	}
	if m.Summary != "" {
		extra["summary"] = m.Summary
	}
	if m.CommitURL != "" {
		extra["commit_url"] = m.CommitURL
	}
	event := map[string]any{
		"event_id":    id,
		"timestamp":   ts.UTC().Format(time.RFC3339),
		"platform":    "other",
		"level":       level,
		"logger":      e.ReportingController,
		"message":     map[string]string{"formatted": truncate(m.Title+": "+m.Text, 8192)},
		"tags":        tags,
		"extra":       extra,
		"fingerprint": []string{objectKey(e), m.Reason},
	}
	if m.Revision != "" {
		event["release"] = truncate(m.Revision, 200)
	}
	payload, err := json.Marshal(event)
	if err != nil {
		return permanentf("encoding the event: %v", err)
	}
	var b bytes.Buffer
	header, _ := json.Marshal(map[string]string{"event_id": id, "sent_at": time.Now().UTC().Format(time.RFC3339)})
	item, _ := json.Marshal(map[string]any{"type": "event", "length": len(payload), "content_type": "application/json"})
	for _, line := range [][]byte{header, item, payload} {
		b.Write(line)
		b.WriteByte('\n')
	}
	_, err = s.p.do(ctx, request{url: s.url, raw: b.Bytes(), header: http.Header{
		"Content-Type":  {"application/x-sentry-envelope"},
		"X-Sentry-Auth": {s.auth},
	}})
	return err
}
