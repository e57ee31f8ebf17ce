package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/harness"
)

func keyOf(o client.Object) client.ObjectKey { return client.ObjectKeyFromObject(o) }

func errf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// assertNowhere fails the test if secret shows in the status of any notification object in
// ns, in its Kubernetes Events, or in anything the controller logged.
func assertNowhere(t *testing.T, m *harness.Manager, ns, secret string) {
	t.Helper()
	ctx := context.Background()
	for _, list := range []client.ObjectList{&notificationv1.ProviderList{}, &notificationv1.AlertList{}, &notificationv1.ReceiverList{}} {
		if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(list)
		if strings.Contains(string(b), secret) {
			t.Errorf("a %T in %s shows the secret", list, ns)
		}
	}
	if events := m.EventsOf(t, ns); strings.Contains(events, secret) {
		t.Errorf("an Event shows the secret:\n%s", events)
	} else if events == "" {
		t.Errorf("no Events were recorded in %s: the check proves nothing", ns)
	}
	if logs := m.Logs.String(); strings.Contains(logs, secret) {
		t.Errorf("the logs show the secret")
	}
}
