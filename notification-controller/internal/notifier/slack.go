package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// slackPayload is a Slack message with one attachment. Slack's incoming webhooks and
// chat.postMessage take it; Discord's Slack-compatible endpoint, Mattermost and Rocket.Chat
// accept the same shape.
type slackPayload struct {
	Channel     string            `json:"channel,omitempty"`
	Username    string            `json:"username,omitempty"`
	Alias       string            `json:"alias,omitempty"` // Rocket.Chat's name for username
	Text        string            `json:"text,omitempty"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Fallback   string       `json:"fallback,omitempty"`
	Color      string       `json:"color"`
	AuthorName string       `json:"author_name"`
	Title      string       `json:"title,omitempty"`
	Text       string       `json:"text"`
	MrkdwnIn   []string     `json:"mrkdwn_in,omitempty"`
	Fields     []slackField `json:"fields,omitempty"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// markup is how a chat service writes links and escapes text.
type markup interface {
	escape(s string) string
	link(text, url string) string
}

// slackMarkup is Slack's mrkdwn: <url|text>, with &, < and > escaped.
type slackMarkup struct{}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func (slackMarkup) escape(s string) string { return slackEscaper.Replace(s) }
func (m slackMarkup) link(text, url string) string {
	return "<" + url + "|" + m.escape(text) + ">"
}

// markdown is CommonMark-style: [text](url).
type markdown struct{}

var markdownEscaper = strings.NewReplacer("[", `\[`, "]", `\]`)

func (markdown) escape(s string) string { return s }
func (markdown) link(text, url string) string {
	return "[" + markdownEscaper.Replace(text) + "](" + url + ")"
}

// revisionValue is the revision, linked to its commit when the link is known.
func revisionValue(m message, mk markup) string {
	if m.CommitURL != "" {
		return mk.link(m.Revision, m.CommitURL)
	}
	return mk.escape(m.Revision)
}

// newSlackPayload lays out m as one attachment: the object as author, the summary as title,
// the message as text, and reason, severity, revision and metadata as fields.
func newSlackPayload(m message, mk markup) slackPayload {
	a := slackAttachment{
		Fallback:   fmt.Sprintf("%s: %s", m.Title, m.Text),
		Color:      m.colour(),
		AuthorName: m.Title,
		Title:      m.Summary,
		Text:       mk.escape(m.Text),
		MrkdwnIn:   []string{"text", "fields"},
		Fields: []slackField{
			{Title: "Reason", Value: mk.escape(m.Reason), Short: true},
			{Title: "Severity", Value: m.Severity, Short: true},
		},
	}
	if m.Revision != "" {
		a.Fields = append(a.Fields, slackField{Title: "Revision", Value: revisionValue(m, mk)})
	}
	for _, f := range m.Fields {
		a.Fields = append(a.Fields, slackField{Title: f.Key, Value: mk.escape(f.Value), Short: len(f.Value) < 40})
	}
	return slackPayload{Attachments: []slackAttachment{a}}
}

// slack posts to an incoming webhook (the URL is the credential), or to chat.postMessage with
// a bot token when the address is that API method.
type slack struct {
	p                *poster
	url              string
	token            string
	channel, sender  string
	postMessageAPI   bool
	markup           markup
	rocketAliasField bool
}

// isPostMessageAPI reports whether address is Slack's chat.postMessage method rather than an
// incoming webhook.
func isPostMessageAPI(address string) bool {
	u, err := url.Parse(address)
	return err == nil && strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/chat.postMessage")
}

func newSlack(c *Config) (*slack, error) {
	s := &slack{p: newPoster(c), url: c.Address, token: c.Token, channel: c.Channel, sender: c.Sender, markup: slackMarkup{}}
	if isPostMessageAPI(c.Address) {
		if c.Token == "" {
			return nil, fmt.Errorf("chat.postMessage needs a bot `token`")
		}
		if c.Channel == "" {
			return nil, fmt.Errorf("chat.postMessage needs spec.channel")
		}
		s.postMessageAPI = true
	}
	return s, nil
}

// Post implements Notifier.
func (s *slack) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	payload := newSlackPayload(m, s.markup)
	payload.Channel = s.channel
	if s.rocketAliasField {
		payload.Alias = s.sender
	} else {
		payload.Username = s.sender
	}
	r := request{url: s.url, body: payload}
	if !s.postMessageAPI {
		_, err := s.p.do(ctx, r)
		return err
	}
	// chat.postMessage wants a top-level text for notifications and answers 200 even on
	// failure, with {"ok": false, "error": "..."}.
	payload.Text = m.Title + ": " + truncate(m.Text, 200)
	r.body = payload
	r.header = http.Header{"Authorization": {"Bearer " + s.token}, "Content-Type": {"application/json; charset=utf-8"}}
	body, err := s.p.do(ctx, r)
	if err != nil {
		return err
	}
	var answer struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || !answer.OK {
		detail := answer.Error
		if detail == "" {
			detail = "the answer is not {\"ok\": true}"
		}
		code := http.StatusBadRequest
		if detail == "ratelimited" {
			code = http.StatusTooManyRequests
		}
		return &StatusError{Code: code, Detail: "Slack: " + s.p.scrub(detail)}
	}
	return nil
}
