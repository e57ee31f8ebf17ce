package notifier

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// OpsgenieAPI is the Alert API's address (EU accounts use https://api.eu.opsgenie.com).
const OpsgenieAPI = "https://api.opsgenie.com"

// opsgenie creates an Opsgenie alert for each event with the Alert API (POST /v2/alerts),
// authenticated with the API key in `token` ("GenieKey <key>"). The alias is the object, so
// Opsgenie de-duplicates repeated events about it into one open alert.
type opsgenie struct {
	p     *poster
	url   string
	token string
}

func newOpsgenie(c *Config) (*opsgenie, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("opsgenie needs the API key as the `token`")
	}
	u, err := url.Parse(c.Address)
	if err != nil {
		return nil, errInvalidAddress
	}
	if !strings.HasSuffix(u.Path, "/v2/alerts") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v2/alerts"
	}
	return &opsgenie{p: newPoster(c), url: u.String(), token: c.Token}, nil
}

// Post implements Notifier.
func (o *opsgenie) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	details := map[string]string{"reason": m.Reason, "severity": m.Severity}
	if m.Revision != "" {
		details["revision"] = m.Revision
	}
	if m.CommitURL != "" {
		details["commit_url"] = m.CommitURL
	}
	for _, f := range m.Fields {
		details[f.Key] = f.Value
	}
	priority := "P5"
	if m.Error {
		priority = "P3"
	}
	obj := e.InvolvedObject
	tags := []string{"weir", strings.ToLower(obj.Kind), obj.Namespace, obj.Name, m.Severity}
	description := m.Text
	if m.Summary != "" {
		description = m.Summary + "\n\n" + m.Text
	}
	_, err := o.p.do(ctx, request{url: o.url, body: map[string]any{
		"message":     truncate(m.Title+": "+m.Text, 130),
		"alias":       truncate(objectKey(e), 512),
		"description": truncate(description, 15000),
		"source":      "weir",
		"tags":        tags,
		"details":     details,
		"entity":      m.Title,
		"priority":    priority,
	}, header: http.Header{"Authorization": {"GenieKey " + o.token}}})
	return err
}
