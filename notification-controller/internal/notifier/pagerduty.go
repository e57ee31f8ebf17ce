package notifier

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// PagerDutyAPI is the Events API's address.
const PagerDutyAPI = "https://events.pagerduty.com"

// pagerduty keeps one PagerDuty alert per object with the Events API v2: an error event
// triggers it (again: PagerDuty groups by dedup_key), an info event resolves it. The routing
// key is the Secret's `token`, or spec.channel as in Flux.
type pagerduty struct {
	p          *poster
	url        string // .../v2/enqueue
	routingKey string
}

func newPagerDuty(c *Config) (*pagerduty, error) {
	key := c.Token
	if key == "" {
		key = c.Channel
	}
	if key == "" {
		return nil, fmt.Errorf("pagerduty needs the integration's routing key: the `token` of the Secret, or spec.channel")
	}
	u, err := url.Parse(c.Address)
	if err != nil {
		return nil, errInvalidAddress
	}
	if !strings.HasSuffix(u.Path, "/v2/enqueue") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v2/enqueue"
	}
	p := newPoster(c)
	p.secrets = append(p.secrets, key)
	return &pagerduty{p: p, url: u.String(), routingKey: key}, nil
}

// Post implements Notifier.
func (pd *pagerduty) Post(ctx context.Context, e *Event) error {
	body := map[string]any{
		"routing_key": pd.routingKey,
		"dedup_key":   objectKey(e),
	}
	if !newMessage(e).Error {
		body["event_action"] = "resolve"
		_, err := pd.p.do(ctx, request{url: pd.url, body: body})
		return err
	}
	m := newMessage(e)
	details := map[string]string{"message": m.Text, "reason": m.Reason}
	if m.Summary != "" {
		details["summary"] = m.Summary
	}
	if m.Revision != "" {
		details["revision"] = m.Revision
	}
	for _, f := range m.Fields {
		details[f.Key] = f.Value
	}
	ts := e.Timestamp.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	source := e.ReportingController
	if source == "" {
		source = "weir"
	}
	body["event_action"] = "trigger"
	body["client"] = "Weir"
	body["payload"] = map[string]any{
		"summary":        truncate(m.Title+": "+m.Text, 1024),
		"source":         source,
		"severity":       "error",
		"timestamp":      ts.UTC().Format(time.RFC3339),
		"component":      e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
		"group":          e.InvolvedObject.Namespace,
		"class":          m.Reason,
		"custom_details": details,
	}
	if strings.HasPrefix(m.CommitURL, "https://") {
		body["links"] = []map[string]string{{"href": m.CommitURL, "text": "Commit " + m.Revision}}
	}
	_, err := pd.p.do(ctx, request{url: pd.url, body: body})
	return err
}
