package receiver_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"weir.dev/notification-controller/internal/receiver"
)

// gcrPush is a Pub/Sub push of an Artifact Registry notification.
func gcrPush(data string) []byte {
	return []byte(`{"message":{"data":"` + base64.StdEncoding.EncodeToString([]byte(data)) +
		`","messageId":"136969346945","publishTime":"2026-01-02T03:04:05.000Z"},"subscription":"projects/p/subscriptions/weir"}`)
}

const acrPush = `{"id":"cb8c3971-9adc-488b-bdd8-43cbb4974ff5","timestamp":"2026-01-02T03:04:05.9Z","action":"push",
 "target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":524,"digest":"sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d",
  "length":524,"repository":"podinfo","tag":"6.5.1"},"request":{"id":"3cbb6949-7549-4fa1-86cd-a6d5451dffc7","host":"weir.azurecr.io","method":"PUT","useragent":"docker/27"}}`

// TestRegistryPayloads: gcr reconciles on image inserts and acr on pushes, ignore the other
// actions, and refuse bodies that are not their webhooks; the payload resourceFilter sees is
// the notification.
func TestRegistryPayloads(t *testing.T) {
	cases := []struct {
		name, typ string
		body      []byte
		status    int
		ignored   string
		field     string // a key the payload must have
	}{
		{name: "gcr insert", typ: "gcr", body: gcrPush(`{"action":"INSERT","digest":"europe-docker.pkg.dev/p/r/app@sha256:0","tag":"europe-docker.pkg.dev/p/r/app:1.0"}`), field: "tag"},
		{name: "gcr delete", typ: "gcr", body: gcrPush(`{"action":"DELETE","tag":"europe-docker.pkg.dev/p/r/app:1.0"}`), ignored: `action "DELETE" is not an image push`},
		{name: "gcr without message", typ: "gcr", body: []byte(`{"subscription":"s"}`), status: 400},
		{name: "gcr data not base64", typ: "gcr", body: []byte(`{"message":{"data":"%%%"}}`), status: 400},
		{name: "gcr data without action", typ: "gcr", body: gcrPush(`{"tag":"x"}`), status: 400},
		{name: "acr push", typ: "acr", body: []byte(acrPush), field: "target"},
		{name: "acr helm chart push", typ: "acr", body: []byte(`{"action":"chart_push","target":{"repository":"charts/podinfo","tag":"6.5.1"}}`), field: "target"},
		{name: "acr ping", typ: "acr", body: []byte(`{"action":"ping","target":{}}`), ignored: "ping"},
		{name: "acr delete", typ: "acr", body: []byte(`{"action":"delete","target":{"repository":"podinfo"}}`), ignored: `action "delete" is not a push`},
		{name: "acr push without repository", typ: "acr", body: []byte(`{"action":"push","target":{}}`), status: 400},
		{name: "acr not json", typ: "acr", body: []byte(`push`), status: 400},
		{name: "acr without action", typ: "acr", body: []byte(`{"target":{"repository":"podinfo"}}`), status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := receiver.Verify(tc.typ, []byte("t"), nil, receiver.Request{Header: http.Header{}, Body: tc.body, IDTokenVerified: true})
			if tc.status != 0 {
				var rerr *receiver.Error
				if !errors.As(err, &rerr) || rerr.Status != tc.status {
					t.Fatalf("got %v, want status %d", err, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Ignored, tc.ignored) || (tc.ignored == "") != (res.Ignored == "") {
				t.Fatalf("ignored %q, want %q", res.Ignored, tc.ignored)
			}
			if _, ok := res.Payload[tc.field]; tc.field != "" && !ok {
				t.Fatalf("payload %v lacks %q", res.Payload, tc.field)
			}
		})
	}
}
