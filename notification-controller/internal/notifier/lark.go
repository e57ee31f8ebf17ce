package notifier

import (
	"context"
	"encoding/json"
	"net/http"
)

// lark posts an interactive card to a Lark (Feishu) custom bot webhook; the webhook URL is
// the secret. Lark answers 200 with a non-zero `code` when it refuses a message.
type lark struct {
	p   *poster
	url string
}

func newLark(c *Config) (*lark, error) {
	return &lark{p: newPoster(c), url: c.Address}, nil
}

// Post implements Notifier.
func (l *lark) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	template := "green"
	if m.Error {
		template = "red"
	}
	body, err := l.p.do(ctx, request{url: l.url, body: map[string]any{
		"msg_type": "interactive",
		"card": map[string]any{
			"config": map[string]any{"wide_screen_mode": true},
			"header": map[string]any{
				"title":    map[string]string{"tag": "plain_text", "content": m.icon() + " " + m.Title},
				"template": template,
			},
			"elements": []any{
				map[string]any{"tag": "div", "text": map[string]string{"tag": "lark_md", "content": truncate(m.markdownText(), 10000)}},
			},
		},
	}})
	if err != nil {
		return err
	}
	var answer struct {
		Code *int   `json:"code"`
		Msg  string `json:"msg"`
	}
	if json.Unmarshal(body, &answer) == nil && answer.Code != nil && *answer.Code != 0 {
		return &StatusError{Code: http.StatusBadRequest, Detail: "Lark: " + l.p.scrub(answer.Msg)}
	}
	return nil
}
