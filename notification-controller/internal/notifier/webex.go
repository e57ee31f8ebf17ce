package notifier

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// WebexAPI is the Webex messages API's address.
const WebexAPI = "https://webexapis.com/v1/messages"

// webex posts a Markdown message to the room spec.channel with the Messages API
// (POST /v1/messages), authenticated with the bot's access `token`.
type webex struct {
	p      *poster
	url    string
	token  string
	roomID string
}

func newWebex(c *Config) (*webex, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("webex needs the bot's access `token`")
	}
	if c.Channel == "" {
		return nil, fmt.Errorf("webex needs spec.channel, the room ID")
	}
	u, err := url.Parse(c.Address)
	if err != nil {
		return nil, errInvalidAddress
	}
	if !strings.HasSuffix(u.Path, "/messages") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/messages"
	}
	return &webex{p: newPoster(c), url: u.String(), token: c.Token, roomID: c.Channel}, nil
}

// Post implements Notifier.
func (w *webex) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	_, err := w.p.do(ctx, request{url: w.url, body: map[string]string{
		"roomId":   w.roomID,
		"markdown": truncate(m.markdownText(), 7000),
	}, header: http.Header{"Authorization": {"Bearer " + w.token}}})
	return err
}
