package notifier

import (
	"context"
	"strings"
)

// googlechat posts a text message to a Google Chat space webhook. Google Chat's text format
// takes *bold* and <url|text> links.
type googlechat struct {
	p   *poster
	url string
}

func newGoogleChat(c *Config) (*googlechat, error) {
	return &googlechat{p: newPoster(c), url: c.Address}, nil
}

// Post implements Notifier.
func (g *googlechat) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	mk := slackMarkup{}
	var b strings.Builder
	icon := "✅"
	if m.Error {
		icon = "❌"
	}
	b.WriteString(icon + " *" + mk.escape(m.Title) + "*\n")
	if m.Summary != "" {
		b.WriteString("_" + mk.escape(m.Summary) + "_\n")
	}
	b.WriteString(mk.escape(m.Text) + "\n")
	b.WriteString("*Reason:* " + mk.escape(m.Reason) + " · *Severity:* " + m.Severity + "\n")
	if m.Revision != "" {
		b.WriteString("*Revision:* " + revisionValue(m, mk) + "\n")
	}
	for _, f := range m.Fields {
		b.WriteString("*" + mk.escape(f.Key) + ":* " + mk.escape(f.Value) + "\n")
	}
	_, err := g.p.do(ctx, request{url: g.url, body: map[string]string{"text": strings.TrimSuffix(b.String(), "\n")},
		header: map[string][]string{"Content-Type": {"application/json; charset=UTF-8"}}})
	return err
}
