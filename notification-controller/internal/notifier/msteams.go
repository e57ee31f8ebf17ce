package notifier

import (
	"context"
	"net/url"
	"strings"
)

// msteams posts to a Microsoft Teams webhook: an Adaptive Card to a Workflows (Power Automate)
// webhook, or a legacy MessageCard to an Office 365 connector (hosts *.webhook.office.com and
// outlook.office.com).
type msteams struct {
	p      *poster
	url    string
	legacy bool
}

func newMSTeams(c *Config) (*msteams, error) {
	u, err := url.Parse(c.Address)
	if err != nil {
		return nil, errInvalidAddress
	}
	host := strings.ToLower(u.Hostname())
	legacy := strings.HasSuffix(host, ".webhook.office.com") || host == "outlook.office.com"
	return &msteams{p: newPoster(c), url: c.Address, legacy: legacy}, nil
}

type teamsFact struct {
	Title string `json:"title,omitempty"`
	Name  string `json:"name,omitempty"`
	Value string `json:"value"`
}

// Post implements Notifier.
func (t *msteams) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	facts := []teamsFact{{Title: "Reason", Value: m.Reason}, {Title: "Severity", Value: m.Severity}}
	if m.Revision != "" {
		facts = append(facts, teamsFact{Title: "Revision", Value: revisionValue(m, markdown{})})
	}
	for _, f := range m.Fields {
		facts = append(facts, teamsFact{Title: f.Key, Value: f.Value})
	}
	if t.legacy {
		for i := range facts {
			facts[i].Name, facts[i].Title = facts[i].Title, ""
		}
		_, err := t.p.do(ctx, request{url: t.url, body: map[string]any{
			"@type":      "MessageCard",
			"@context":   "https://schema.org/extensions",
			"themeColor": strings.TrimPrefix(m.colour(), "#"),
			"summary":    m.Title,
			"sections": []map[string]any{{
				"activityTitle":    m.Title,
				"activitySubtitle": m.Text,
				"markdown":         true,
				"facts":            facts,
			}},
		}})
		return err
	}
	colour := "good"
	if m.Error {
		colour = "attention"
	}
	body := []map[string]any{{"type": "TextBlock", "text": m.Title, "weight": "bolder", "size": "medium", "wrap": true, "color": colour}}
	if m.Summary != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": m.Summary, "wrap": true, "isSubtle": true})
	}
	body = append(body,
		map[string]any{"type": "TextBlock", "text": m.Text, "wrap": true},
		map[string]any{"type": "FactSet", "facts": facts})
	_, err := t.p.do(ctx, request{url: t.url, body: map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"content": map[string]any{
				"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
				"type":    "AdaptiveCard",
				"version": "1.4",
				"body":    body,
			},
		}},
	}})
	return err
}
