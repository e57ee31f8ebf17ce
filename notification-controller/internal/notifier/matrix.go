package notifier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// matrix sends an m.room.message to the room spec.channel on the homeserver at the address
// (PUT /_matrix/client/v3/rooms/<room>/send/m.room.message/<txn>), with the access `token`.
// The transaction ID is derived from the event, so a retried delivery is not shown twice.
type matrix struct {
	p      *poster
	base   string
	token  string
	roomID string
}

func newMatrix(c *Config) (*matrix, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("matrix needs the access `token`")
	}
	if c.Channel == "" {
		return nil, fmt.Errorf("matrix needs spec.channel, the room ID (e.g. !abc:example.org)")
	}
	if _, err := url.Parse(c.Address); err != nil {
		return nil, errInvalidAddress
	}
	return &matrix{p: newPoster(c), base: strings.TrimSuffix(c.Address, "/"), token: c.Token, roomID: c.Channel}, nil
}

// Post implements Notifier.
func (mx *matrix) Post(ctx context.Context, e *Event) error {
	m := newMessage(e)
	sum := sha256.Sum256([]byte(objectKey(e) + "\n" + strconv.FormatInt(e.Timestamp.UnixNano(), 10) + "\n" + e.Reason + "\n" + e.Message))
	txn := "weir-" + hex.EncodeToString(sum[:16])
	_, err := mx.p.do(ctx, request{
		method: http.MethodPut,
		url:    mx.base + "/_matrix/client/v3/rooms/" + url.PathEscape(mx.roomID) + "/send/m.room.message/" + txn,
		body: map[string]string{
			"msgtype":        "m.text",
			"body":           m.plainText(),
			"format":         "org.matrix.custom.html",
			"formatted_body": m.htmlText(),
		},
		header: http.Header{"Authorization": {"Bearer " + mx.token}},
	})
	return err
}
