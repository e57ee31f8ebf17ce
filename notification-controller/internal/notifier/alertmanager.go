package notifier

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// alertmanager posts the event as one alert to Alertmanager's API (spec.address is the full
// URL, e.g. http://alertmanager:9093/api/v2/alerts). Labels identify the object and the
// event, so Alertmanager groups and silences by them; annotations carry the text.
type alertmanager struct {
	p              *poster
	url            string
	header         http.Header
	user, password string
}

// resolveAfter is how long an alert stays firing: events are one-off, so the alert resolves
// by itself unless the same event comes again.
const resolveAfter = time.Hour

func newAlertmanager(c *Config) (*alertmanager, error) {
	a := &alertmanager{p: newPoster(c), url: c.Address, header: http.Header{}, user: c.BasicUser, password: c.BasicPassword}
	if c.Token != "" {
		a.header.Set("Authorization", "Bearer "+c.Token)
	}
	return a, nil
}

// labelName turns a metadata key into a valid Prometheus label name.
var invalidLabelChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

func labelName(k string) string {
	k = invalidLabelChars.ReplaceAllString(k, "_")
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		k = "_" + k
	}
	return k
}

// Post implements Notifier.
func (a *alertmanager) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	o := e.InvolvedObject
	labels := map[string]string{}
	for k, v := range e.Metadata {
		if k != "summary" {
			labels[labelName(k)] = v
		}
	}
	for k, v := range map[string]string{
		"alertname": "Weir" + o.Kind + e.Reason,
		"severity":  e.Severity,
		"reason":    e.Reason,
		"kind":      o.Kind,
		"name":      o.Name,
		"namespace": o.Namespace,
	} {
		labels[k] = v
	}
	annotations := map[string]string{"message": m.Text}
	if m.Summary != "" {
		annotations["summary"] = m.Summary
	}
	if m.CommitURL != "" {
		annotations["commit_url"] = m.CommitURL
	}
	start := e.Timestamp.Time
	if start.IsZero() {
		start = time.Now()
	}
	alert := map[string]any{
		"labels":      labels,
		"annotations": annotations,
		"startsAt":    start.UTC().Format(time.RFC3339),
		"endsAt":      start.Add(resolveAfter).UTC().Format(time.RFC3339),
	}
	if strings.HasPrefix(m.CommitURL, "https://") {
		alert["generatorURL"] = m.CommitURL
	}
	_, err := a.p.do(ctx, request{url: a.url, body: []any{alert}, header: a.header, user: a.user, password: a.password})
	return err
}
