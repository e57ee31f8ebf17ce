package notifier

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// grafana adds an annotation for each event with Grafana's HTTP API (POST /api/annotations),
// authenticated with a service account `token` (Bearer) or `username` and `password`. Without
// a dashboard the annotation is an organization one, shown on every panel that queries
// annotations by tag: "weir", the object's kind, namespace and name, the severity and the
// metadata as key:value.
type grafana struct {
	p              *poster
	url            string
	header         http.Header
	user, password string
}

func newGrafana(c *Config) (*grafana, error) {
	u, err := url.Parse(c.Address)
	if err != nil {
		return nil, errInvalidAddress
	}
	if !strings.HasSuffix(u.Path, "/api/annotations") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/api/annotations"
	}
	g := &grafana{p: newPoster(c), url: u.String(), header: http.Header{}, user: c.BasicUser, password: c.BasicPassword}
	if c.Token != "" {
		g.header.Set("Authorization", "Bearer "+c.Token)
	}
	return g, nil
}

// Post implements Notifier.
func (g *grafana) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	o := e.InvolvedObject
	tags := []string{"weir", "kind:" + o.Kind, "namespace:" + o.Namespace, "name:" + o.Name, "severity:" + m.Severity, "reason:" + m.Reason}
	if m.Revision != "" {
		tags = append(tags, "revision:"+m.Revision)
	}
	for _, f := range m.Fields {
		tags = append(tags, f.Key+":"+f.Value)
	}
	ts := e.Timestamp.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	// Grafana shows the text as HTML.
	text := html.EscapeString(m.Title + ": " + m.Text)
	if m.CommitURL != "" {
		text += ` <a href="` + html.EscapeString(m.CommitURL) + `">` + html.EscapeString(m.Revision) + `</a>`
	}
	_, err := g.p.do(ctx, request{url: g.url, body: map[string]any{
		"time": ts.UnixMilli(),
		"tags": tags,
		"text": text,
	}, header: g.header, user: g.user, password: g.password})
	return err
}
