package notifier

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// natsServers maps the client URLs of the servers runNATS started to the servers.
var natsServers sync.Map

// runNATS starts an embedded NATS server on 127.0.0.1 that requires user "weir" with
// password testToken, and returns its client URL.
func runNATS(t *testing.T) string {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		Username: "weir", Password: testToken})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	t.Cleanup(s.Shutdown)
	natsServers.Store(s.ClientURL(), s)
	return s.ClientURL()
}

// TestNATSPublishesTheEventToTheSubject: the event reaches a subscriber of the subject as the
// generic JSON, over a connection authenticated with the Secret's user name and password.
func TestNATSPublishesTheEventToTheSubject(t *testing.T) {
	addr := runNATS(t)
	sub, err := nats.Connect(addr, nats.UserInfo("weir", testToken))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	msgs := make(chan *nats.Msg, 4)
	if _, err := sub.ChanSubscribe("weir.events", msgs); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	n, err := New(onLoopback(Config{Type: "nats", Address: addr, Channel: "weir.events", BasicUser: "weir", BasicPassword: testToken}))
	if err != nil {
		t.Fatal(err)
	}
	for _, severity := range []string{"info", "error"} {
		if err := n.Post(context.Background(), testEvent(severity)); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-msgs:
			if m.Subject != "weir.events" {
				t.Fatalf("subject %q", m.Subject)
			}
			jsonEqual(t, m.Data, sevs[severity].r(genericBody))
		case <-time.After(30 * time.Second):
			t.Fatal("no message on the subject")
		}
	}
}

// stopNATS shuts down the embedded server at addr started by runNATS, so that it refuses
// connections.
func stopNATS(t *testing.T, addr string) {
	t.Helper()
	srv, ok := natsServers.Load(addr)
	if !ok {
		t.Fatalf("no NATS server at %s", addr)
	}
	srv.(*natsserver.Server).Shutdown()
}

// TestNATSFailuresKeepTheCredentialsOut: a wrong password, an unreachable server and a
// server the egress policy refuses fail without showing the password.
func TestNATSFailuresKeepTheCredentialsOut(t *testing.T) {
	addr := runNATS(t)
	closed := runNATS(t)
	stopNATS(t, closed)
	for _, c := range []Config{
		onLoopback(Config{Type: "nats", Address: closed, Channel: "s", BasicUser: "weir", BasicPassword: testToken}),
		onLoopback(Config{Type: "nats", Address: addr, Channel: "s", BasicUser: "weir", BasicPassword: testToken + "-wrong"}),
		onLoopback(Config{Type: "nats", Address: addr, Channel: "s", Token: testToken}),
		{Type: "nats", Address: addr, Channel: "s", BasicUser: "weir", BasicPassword: testToken}, // the default policy refuses loopback
	} {
		n, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		err = n.Post(context.Background(), testEvent("error"))
		if err == nil {
			t.Fatalf("%+v: want an error", c.Address)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Fatalf("the error shows the credential: %v", err)
		}
	}
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Type: "nats", Address: "https://nats.example.com", Channel: "s"}, "nats://"},
		{Config{Type: "nats", Address: "nats://u:" + testToken + "@nats.example.com:4222", Channel: "s"}, "must not embed credentials"},
		{Config{Type: "nats", Address: "nats://nats.example.com:4222"}, "spec.channel, the subject"},
	} {
		if _, err := New(tc.c); err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: got %v, want %q", tc.c.Address, err, tc.want)
		}
	}
}
