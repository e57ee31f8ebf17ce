package notifier

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// GooglePubSubAPI is the Pub/Sub API's address, used when a googlepubsub Provider sets none.
const GooglePubSubAPI = "https://pubsub.googleapis.com"

// pubsubScope is the OAuth 2.0 scope publishing needs.
const pubsubScope = "https://www.googleapis.com/auth/pubsub"

// pubsubTopic is the form of spec.channel for googlepubsub.
var pubsubTopic = regexp.MustCompile(`^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$`)

// googlePubSub publishes each event, as JSON (the generic format) in the message data, to the
// topic spec.channel (projects/<project>/topics/<topic>) with the Pub/Sub REST API
// (POST /v1/<topic>:publish). It authenticates as the service account whose JSON key is the
// `token`: an access token from the key's token_uri (the JWT bearer grant), reused until it
// expires. Attributes name the object, the severity and the reason, for subscription filters.
type googlePubSub struct {
	p      *poster
	url    string
	tokens oauth2.TokenSource
}

// serviceAccountKey is the part of a Google service account JSON key that signs in.
type serviceAccountKey struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

func newGooglePubSub(c *Config) (*googlePubSub, error) {
	if !pubsubTopic.MatchString(c.Channel) {
		return nil, fmt.Errorf("googlepubsub needs spec.channel, the topic: projects/<project>/topics/<topic>")
	}
	var key serviceAccountKey
	if err := json.Unmarshal([]byte(c.Token), &key); err != nil || key.Type != "service_account" || key.ClientEmail == "" || key.PrivateKey == "" {
		return nil, fmt.Errorf("googlepubsub needs a service account's JSON key as the `token`")
	}
	if key.TokenURI == "" {
		key.TokenURI = "https://oauth2.googleapis.com/token"
	}
	if !strings.HasPrefix(key.TokenURI, "https://") && !strings.HasPrefix(key.TokenURI, "http://") {
		return nil, fmt.Errorf("the service account key's token_uri is not an http(s) URL")
	}
	base := strings.TrimSuffix(c.Address, "/")
	if base == "" {
		base = GooglePubSubAPI
	}
	p := newPoster(c)
	p.secrets = append(p.secrets, key.PrivateKey, key.PrivateKeyID)
	// The token request goes through the same client (and egress policy), bounded in time.
	client := *p.client
	client.Timeout = 30 * time.Second
	conf := &jwt.Config{Email: key.ClientEmail, PrivateKey: []byte(key.PrivateKey), PrivateKeyID: key.PrivateKeyID,
		Scopes: []string{pubsubScope}, TokenURL: key.TokenURI}
	return &googlePubSub{
		p:      p,
		url:    base + "/v1/" + c.Channel + ":publish",
		tokens: conf.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, &client)),
	}, nil
}

// Post implements Notifier.
func (g *googlePubSub) Post(ctx context.Context, e *Event) error {
	data, err := json.Marshal(e.Event)
	if err != nil {
		return permanentf("encoding the event: %v", err)
	}
	tok, err := g.tokens.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			return permanentf("signing in as the service account: the token endpoint answered %d", re.Response.StatusCode)
		}
		return fmt.Errorf("signing in as the service account: %s", g.p.scrub(err.Error()))
	}
	o := e.InvolvedObject
	_, err = g.p.do(ctx, request{url: g.url, body: map[string]any{"messages": []any{map[string]any{
		"data": base64.StdEncoding.EncodeToString(data),
		"attributes": map[string]string{
			"kind": o.Kind, "namespace": o.Namespace, "name": o.Name, "severity": e.Severity, "reason": e.Reason,
		},
	}}}, header: http.Header{"Authorization": {"Bearer " + tok.AccessToken}}})
	// The access token is a credential for an hour: keep it out of an echoed answer.
	var se *StatusError
	if errors.As(err, &se) && tok.AccessToken != "" {
		se.Detail = strings.ReplaceAll(se.Detail, tok.AccessToken, "[redacted]")
	}
	return err
}
