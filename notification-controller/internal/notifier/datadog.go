package notifier

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// datadog posts an event to Datadog's Events API (POST /api/v1/events on the site's API host,
// e.g. https://api.datadoghq.eu), authenticated with the API key in `token` (DD-API-KEY).
// Tags name the object and the metadata, so monitors and dashboards can filter on them.
type datadog struct {
	p     *poster
	url   string
	token string
}

func newDatadog(c *Config) (*datadog, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("datadog needs the API key as the `token`")
	}
	u, err := url.Parse(c.Address)
	if err != nil {
		return nil, errInvalidAddress
	}
	if !strings.HasSuffix(u.Path, "/api/v1/events") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v1/events"
	}
	return &datadog{p: newPoster(c), url: u.String(), token: c.Token}, nil
}

// Post implements Notifier.
func (d *datadog) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	o := e.InvolvedObject
	tags := []string{
		"source:weir",
		"kind:" + strings.ToLower(o.Kind),
		"kube_namespace:" + o.Namespace,
		"name:" + o.Name,
		"reason:" + m.Reason,
	}
	if m.Revision != "" {
		tags = append(tags, "revision:"+m.Revision)
	}
	for _, f := range m.Fields {
		tags = append(tags, f.Key+":"+f.Value)
	}
	alertType := "info"
	if m.Error {
		alertType = "error"
	}
	ts := e.Timestamp.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	// Datadog renders %%% … %%% as Markdown.
	_, err := d.p.do(ctx, request{url: d.url, body: map[string]any{
		"title":            truncate(m.Title+": "+m.Reason, 100),
		"text":             truncate("%%% \n"+m.markdownText()+"\n %%%", 4000),
		"alert_type":       alertType,
		"date_happened":    ts.Unix(),
		"aggregation_key":  objectKey(e),
		"source_type_name": "weir",
		"tags":             tags,
	}, header: http.Header{"Dd-Api-Key": {d.token}}})
	return err
}
