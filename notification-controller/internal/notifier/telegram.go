package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
)

// TelegramAPI is the Bot API's address, used when a telegram Provider sets no address.
const TelegramAPI = "https://api.telegram.org"

// telegram sends a message with the Bot API's sendMessage to the chat in spec.channel, as
// HTML. The bot token is part of the URL, so the URL is never shown.
type telegram struct {
	p      *poster
	url    string
	chatID string
}

func newTelegram(c *Config) (*telegram, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("telegram needs the bot `token`")
	}
	if c.Channel == "" {
		return nil, fmt.Errorf("telegram needs spec.channel, the chat ID")
	}
	base := strings.TrimSuffix(c.Address, "/")
	if base == "" {
		base = TelegramAPI
	}
	return &telegram{p: newPoster(c), url: base + "/bot" + c.Token + "/sendMessage", chatID: c.Channel}, nil
}

// Post implements Notifier.
func (t *telegram) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	esc := html.EscapeString
	var b strings.Builder
	icon := "✅"
	if m.Error {
		icon = "❌"
	}
	b.WriteString(icon + " <b>" + esc(m.Title) + "</b>\n")
	if m.Summary != "" {
		b.WriteString("<i>" + esc(m.Summary) + "</i>\n")
	}
	b.WriteString(esc(m.Text) + "\n")
	b.WriteString("<b>Reason:</b> " + esc(m.Reason) + " · <b>Severity:</b> " + m.Severity + "\n")
	if m.Revision != "" {
		rev := esc(m.Revision)
		if m.CommitURL != "" {
			rev = `<a href="` + esc(m.CommitURL) + `">` + rev + "</a>"
		}
		b.WriteString("<b>Revision:</b> " + rev + "\n")
	}
	for _, f := range m.Fields {
		b.WriteString("<b>" + esc(f.Key) + ":</b> " + esc(f.Value) + "\n")
	}
	body, err := t.p.do(ctx, request{url: t.url, body: map[string]any{
		"chat_id":                  t.chatID,
		"text":                     truncate(strings.TrimSuffix(b.String(), "\n"), 4096),
		"parse_mode":               "HTML",
		"disable_web_page_preview": true,
	}})
	if err != nil {
		return err
	}
	var answer struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || !answer.OK {
		return &StatusError{Code: http.StatusBadRequest, Detail: "Telegram: " + t.p.scrub(answer.Description)}
	}
	return nil
}
