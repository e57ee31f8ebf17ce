package notifier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// SignatureHeader carries the generic-hmac signature: "sha256=" and the hex HMAC-SHA256 of the
// body keyed by the Provider's token.
const SignatureHeader = "X-Signature"

// generic POSTs the event itself as JSON (the format of github.com/fluxcd/pkg/apis/event/v1),
// with the Secret's headers and basic auth, signed when hmacKey is set.
type generic struct {
	p              *poster
	url            string
	header         http.Header
	user, password string
	hmacKey        []byte
}

func newGeneric(c *Config, signed bool) (*generic, error) {
	g := &generic{p: newPoster(c), url: c.Address, header: http.Header{}, user: c.BasicUser, password: c.BasicPassword}
	for k, v := range c.Headers {
		g.header.Set(k, v)
	}
	if signed {
		if c.Token == "" {
			return nil, fmt.Errorf("generic-hmac needs a `token`, the HMAC key")
		}
		g.hmacKey = []byte(c.Token)
	}
	return g, nil
}

// Post implements Notifier.
func (g *generic) Post(ctx context.Context, e *Event) error {
	body, err := json.Marshal(e.Event)
	if err != nil {
		return permanentf("encoding the event: %v", err)
	}
	header := g.header.Clone()
	if g.hmacKey != nil {
		header.Set(SignatureHeader, "sha256="+Sign(g.hmacKey, body))
	}
	_, err = g.p.do(ctx, request{url: g.url, raw: body, header: header, user: g.user, password: g.password})
	return err
}

// Sign returns the hex HMAC-SHA256 of body keyed by key.
func Sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
