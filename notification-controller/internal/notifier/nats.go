package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/nats-io/nats.go"
)

// natsNotifier publishes each event, as JSON (the generic format), to the subject spec.channel
// on the NATS server at the address (nats:// or tls://), authenticated with `username` and
// `password` or with a `token`. It connects for each delivery, through the same egress policy
// as HTTP deliveries, and succeeds once the server acknowledged the publish (a flush).
type natsNotifier struct {
	p       *poster
	url     string
	subject string
	opts    []nats.Option
}

func newNATS(c *Config) (*natsNotifier, error) {
	u, err := url.Parse(c.Address)
	if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
		return nil, fmt.Errorf("a nats address must be nats://<host>:<port> or tls://<host>:<port>")
	}
	if u.User != nil {
		return nil, fmt.Errorf("the nats address must not embed credentials: put them in the Secret")
	}
	if c.Channel == "" {
		return nil, fmt.Errorf("nats needs spec.channel, the subject to publish to")
	}
	opts := []nats.Option{
		nats.Name(userAgent), nats.NoReconnect(), nats.MaxReconnects(0), nats.NoCallbacksAfterClientClose(),
		nats.SetCustomDialer(contextDialer{dial: dialerOf(c.Client)}),
	}
	switch {
	case c.BasicUser != "" || c.BasicPassword != "":
		opts = append(opts, nats.UserInfo(c.BasicUser, c.BasicPassword))
	case c.Token != "":
		opts = append(opts, nats.Token(c.Token))
	}
	if u.Scheme == "tls" {
		if t, ok := clientOf(c).Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
			opts = append(opts, nats.Secure(t.TLSClientConfig.Clone()))
		} else {
			opts = append(opts, nats.Secure())
		}
	}
	return &natsNotifier{p: newPoster(c), url: c.Address, subject: c.Channel, opts: opts}, nil
}

// Post implements Notifier.
func (n *natsNotifier) Post(ctx context.Context, e *Event) error {
	body, err := json.Marshal(e.Event)
	if err != nil {
		return permanentf("encoding the event: %v", err)
	}
	// The connection and the flush need a deadline: the delivery's, or 15 s.
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
	}
	d, _ := ctx.Deadline()
	timeout := time.Until(d)
	conn, err := nats.Connect(n.url, append(n.opts, nats.Timeout(timeout))...)
	if err != nil {
		return n.p.transportError(ctx, err)
	}
	defer conn.Close()
	if err := conn.Publish(n.subject, body); err != nil {
		return permanentf("publishing to the subject: %s", n.p.scrub(err.Error()))
	}
	if err := conn.FlushWithContext(ctx); err != nil {
		return n.p.transportError(ctx, err)
	}
	if err := conn.LastError(); err != nil {
		return fmt.Errorf("the server refused the publish: %s", n.p.scrub(err.Error()))
	}
	return nil
}

// clientOf returns the client a Config sends with.
func clientOf(c *Config) *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return DefaultClient
}

// dialerOf returns the dial function of a client's transport, which applies its egress
// policy, or the strict default's.
func dialerOf(client *http.Client) func(ctx context.Context, network, addr string) (net.Conn, error) {
	for _, c := range []*http.Client{client, DefaultClient} {
		if c == nil {
			continue
		}
		if t, ok := c.Transport.(*http.Transport); ok && t.DialContext != nil {
			return t.DialContext
		}
	}
	return (&net.Dialer{}).DialContext
}

// contextDialer adapts a dial function to nats.CustomDialer.
type contextDialer struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (d contextDialer) Dial(network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return d.dial(ctx, network, addr)
}
