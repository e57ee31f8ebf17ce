package notifier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const hubKey = "aHViLWtleS10aGF0LW11c3Qtc3RheS1zZWNyZXQ="

func hubConnection() string {
	return "Endpoint=sb://weir-ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + hubKey + ";EntityPath=events"
}

// TestAzureEventHubPostsTheEventWithASharedAccessSignature: the event is POSTed to the hub's
// messages endpoint with a SharedAccessSignature for the hub's URI, signed with the
// connection string's key, valid for about an hour.
func TestAzureEventHubPostsTheEventWithASharedAccessSignature(t *testing.T) {
	srv := newFakeServer(t, http.StatusCreated, "")
	n, err := New(onLoopback(Config{Type: "azureeventhub", Address: srv.URL, Token: hubConnection()}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), testEvent("error")); err != nil {
		t.Fatal(err)
	}
	r := srv.received()[0]
	if r.Method != http.MethodPost || r.Path != "/events/messages" || r.RawQuery != "timeout=60&api-version=2014-01" {
		t.Fatalf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/atom+xml;type=entry;charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	jsonEqual(t, r.Body, sevs["error"].r(genericBody))

	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "SharedAccessSignature ")
	if !ok {
		t.Fatalf("Authorization %q", r.Header.Get("Authorization"))
	}
	// The header's parameters are already escaped: split on & before unescaping.
	params := map[string]string{}
	for _, kv := range strings.Split(auth, "&") {
		k, v, _ := strings.Cut(kv, "=")
		params[k] = v
	}
	sr := url.QueryEscape("https://weir-ns.servicebus.windows.net/events")
	if params["sr"] != sr || params["skn"] != "send" {
		t.Fatalf("sr %q skn %q", params["sr"], params["skn"])
	}
	se, _ := strconv.ParseInt(params["se"], 10, 64)
	if d := time.Until(time.Unix(se, 0)); d < 50*time.Minute || d > 61*time.Minute {
		t.Fatalf("expiry in %s, want about an hour", d)
	}
	mac := hmac.New(sha256.New, []byte(hubKey))
	mac.Write([]byte(sr + "\n" + params["se"]))
	if sig, _ := url.QueryUnescape(params["sig"]); sig != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("signature %q does not match the key", sig)
	}
}

func TestAzureEventHubKeepsTheKeyAndSignatureOut(t *testing.T) {
	echo := newFakeServer(t, http.StatusUnauthorized, "")
	echo.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("bad " + r.Header.Get("Authorization")))
	})
	n, err := New(onLoopback(Config{Type: "azureeventhub", Address: echo.URL, Token: hubConnection()}))
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(context.Background(), testEvent("info"))
	if err == nil || strings.Contains(err.Error(), "sig=") && !strings.Contains(err.Error(), "sig=[redacted]") || strings.Contains(err.Error(), hubKey) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("the echoed signature was not redacted: %v", err)
	}
	for _, token := range []string{"", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;EntityPath=events", "SharedAccessKey=" + hubKey} {
		if _, err := New(Config{Type: "azureeventhub", Token: token}); err == nil || !strings.Contains(err.Error(), "connection string") || strings.Contains(err.Error(), hubKey) {
			t.Errorf("token %q: got %v", token, err)
		}
	}
}
