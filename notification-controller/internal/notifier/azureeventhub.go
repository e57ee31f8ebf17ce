package notifier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// azureEventHub sends each event, as JSON (the generic format), to an Azure Event Hub with
// the Event Hubs REST API (POST https://<namespace>.servicebus.windows.net/<hub>/messages),
// authenticated with a shared access signature made from the connection string in `token`:
// Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=<name>;
// SharedAccessKey=<key>;EntityPath=<hub>. spec.address, when set, replaces the endpoint's
// https://<namespace>.servicebus.windows.net (a private endpoint, or a test server).
type azureEventHub struct {
	p *poster
	// resource is the hub's URI the signature is for; url is where messages are posted.
	resource, url string
	keyName       string
	key           []byte
}

// sasValidity is how long each request's signature is valid.
const sasValidity = time.Hour

func newAzureEventHub(c *Config) (*azureEventHub, error) {
	fields := map[string]string{}
	for _, part := range strings.Split(c.Token, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			fields[strings.ToLower(k)] = v
		}
	}
	endpoint, keyName, key, hub := fields["endpoint"], fields["sharedaccesskeyname"], fields["sharedaccesskey"], fields["entitypath"]
	if endpoint == "" || keyName == "" || key == "" || hub == "" {
		return nil, fmt.Errorf("azureeventhub needs the hub's connection string as the `token`: Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…;EntityPath=<hub>")
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the connection string's Endpoint is not a URL")
	}
	resource := "https://" + u.Host + "/" + hub
	base := "https://" + u.Host
	if c.Address != "" {
		base = strings.TrimSuffix(c.Address, "/")
	}
	p := newPoster(c)
	p.secrets = append(p.secrets, key)
	return &azureEventHub{p: p, resource: resource, url: base + "/" + url.PathEscape(hub) + "/messages?timeout=60&api-version=2014-01",
		keyName: keyName, key: []byte(key)}, nil
}

// sas returns the SharedAccessSignature authorization for the hub, valid until expiry, and
// the signature in it.
func (a *azureEventHub) sas(expiry time.Time) (auth, sig string) {
	sr := url.QueryEscape(a.resource)
	se := strconv.FormatInt(expiry.Unix(), 10)
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(sr + "\n" + se))
	sig = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return "SharedAccessSignature sr=" + sr + "&sig=" + url.QueryEscape(sig) + "&se=" + se + "&skn=" + url.QueryEscape(a.keyName), sig
}

// Post implements Notifier.
func (a *azureEventHub) Post(ctx context.Context, e *Event) error {
	body, err := json.Marshal(e.Event)
	if err != nil {
		return permanentf("encoding the event: %v", err)
	}
	auth, sig := a.sas(time.Now().Add(sasValidity))
	_, err = a.p.do(ctx, request{url: a.url, raw: body, header: http.Header{
		"Authorization": {auth},
		"Content-Type":  {"application/atom+xml;type=entry;charset=utf-8"},
	}})
	// The signature is a credential for an hour: keep it out of an echoed answer.
	var se *StatusError
	if errors.As(err, &se) {
		for _, s := range []string{auth, url.QueryEscape(sig), sig} {
			se.Detail = strings.ReplaceAll(se.Detail, s, "[redacted]")
		}
	}
	return err
}
