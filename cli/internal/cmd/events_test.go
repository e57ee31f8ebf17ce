package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEvents(t *testing.T) {
	ns := env.Namespace(t)
	create(t, kustomization(ns, "apps", "app", nil, ""))
	create(t, gitRepository(ns, "app", nil, ""))
	now := time.Now()
	event := func(name, apiVersion, kind, object, typ, reason, msg string, at time.Time) {
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name},
			InvolvedObject: corev1.ObjectReference{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: object},
			Type:           typ, Reason: reason, Message: msg,
			FirstTimestamp: metav1.NewTime(at), LastTimestamp: metav1.NewTime(at),
		}
		if err := env.Client.Create(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	event("e1", "kustomize.weir.dev/v1", "Kustomization", "apps", corev1.EventTypeNormal, "ReconciliationSucceeded", "applied main@sha1:abc", now.Add(-time.Minute))
	event("e2", "source.weir.dev/v1", "GitRepository", "app", corev1.EventTypeWarning, "AuthenticationFailed", "authentication required", now.Add(-2*time.Minute))
	event("e3", "apps/v1", "Deployment", "web", corev1.EventTypeNormal, "ScalingReplicaSet", "scaled up", now)

	code, out, errOut := weir(t, "events", "-n", ns)
	if code != 0 {
		t.Fatalf("code %d, %q", code, errOut)
	}
	older, newer := strings.Index(out, "gitrepository/app"), strings.Index(out, "kustomization/apps")
	if older < 0 || newer < 0 || older > newer {
		t.Errorf("want the GitRepository's older event before the Kustomization's:\n%s", out)
	}
	if strings.Contains(out, "ScalingReplicaSet") {
		t.Errorf("events of a Deployment are not Weir's:\n%s", out)
	}
	if !strings.Contains(out, "Warning") || !strings.Contains(out, "authentication required") {
		t.Errorf("type and message missing:\n%s", out)
	}

	code, out, _ = weir(t, "events", "-n", ns, "--for", "ks/apps")
	if code != 0 || !strings.Contains(out, "ReconciliationSucceeded") || strings.Contains(out, "AuthenticationFailed") {
		t.Errorf("--for ks/apps: code %d\n%s", code, out)
	}
	if code, out, _ := weir(t, "events", "-A"); code != 0 || !strings.Contains(out, ns) {
		t.Errorf("-A shows namespaces: code %d\n%s", code, out)
	}
	if code, _, errOut := weir(t, "events", "-n", ns, "--for", "ks/nope"); code != 1 || !strings.Contains(errOut, `Kustomization "nope" not found`) {
		t.Errorf("--for a missing object: code %d, %q", code, errOut)
	}
	if code, _, errOut := weir(t, "events", "--for", "apps"); code != 1 || !strings.Contains(errOut, "want <kind>/<name>") {
		t.Errorf("--for without a kind: code %d, %q", code, errOut)
	}
}
