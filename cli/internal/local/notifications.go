package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Notification is one event the demo's generic-webhook Provider delivered.
type Notification struct {
	// Kind, Namespace and Name identify the object the event is about.
	Kind, Namespace, Name string
	Severity              string
	Reason                string
	Message               string
	// Revision is the event's revision metadata, if any.
	Revision string
}

// String is the line weir prints for n.
func (n Notification) String() string {
	message := strings.ReplaceAll(strings.TrimSpace(n.Message), "\n", "\n    ")
	s := fmt.Sprintf("%s %s/%s/%s %s: %s", n.Severity, n.Kind, n.Namespace, n.Name, n.Reason, message)
	if n.Revision != "" {
		s += " (" + n.Revision + ")"
	}
	return s
}

// notificationPrinter is the generic webhook the demo's Provider posts to: it prints each
// event it receives and keeps them for Demo.Notifications.
type notificationPrinter struct {
	url   string
	srv   *http.Server
	print func(Notification)
	mu    sync.Mutex
	got   []Notification
}

func startNotificationPrinter(print func(Notification)) (*notificationPrinter, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &notificationPrinter{url: "http://" + l.Addr().String() + "/", print: print}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := p.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "notification webhook:", err)
		}
	}()
	return p, nil
}

// event is the part of the generic provider's JSON body the printer shows.
type event struct {
	InvolvedObject struct {
		Kind, Namespace, Name string
	} `json:"involvedObject"`
	Severity string            `json:"severity"`
	Reason   string            `json:"reason"`
	Message  string            `json:"message"`
	Metadata map[string]string `json:"metadata"`
}

func (p *notificationPrinter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev event
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &ev)
	}
	if err != nil {
		http.Error(w, "not an event: "+err.Error(), http.StatusBadRequest)
		return
	}
	n := Notification{
		Kind: ev.InvolvedObject.Kind, Namespace: ev.InvolvedObject.Namespace, Name: ev.InvolvedObject.Name,
		Severity: ev.Severity, Reason: ev.Reason, Message: ev.Message,
	}
	for k, v := range ev.Metadata {
		// "revision", or with the object's API group in front.
		if k == "revision" || strings.HasSuffix(k, "/revision") {
			n.Revision = v
		}
	}
	p.mu.Lock()
	p.got = append(p.got, n)
	p.mu.Unlock()
	p.print(n)
	w.WriteHeader(http.StatusOK)
}

func (p *notificationPrinter) received() []Notification {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Notification(nil), p.got...)
}

func (p *notificationPrinter) close() { _ = p.srv.Close() }
