package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/pkg/testenv"
)

// TestEventsOutputAndWatch: `weir events` filters by --types, prints with cli-runtime's printers
// (-o json, yaml, name, jsonpath) or a wide table, and with -w prints the events recorded after
// it listed, as they come, filtered the same way.
func TestEventsOutputAndWatch(t *testing.T) {
	ns := env.Namespace(t)
	create(t, kustomization(ns, "apps", "app", nil, ""))
	event := func(name, typ, reason, msg string) {
		t.Helper()
		now := metav1.Now()
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name},
			InvolvedObject: corev1.ObjectReference{APIVersion: "kustomize.weir.dev/v1", Kind: "Kustomization", Namespace: ns, Name: "apps"},
			Type:           typ, Reason: reason, Message: msg, Count: 3,
			FirstTimestamp: now, LastTimestamp: now,
			ReportingController: "kustomize-controller",
		}
		if err := env.Client.Create(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	event("ok", corev1.EventTypeNormal, "ReconciliationSucceeded", "applied main@sha1:abc")
	event("bad", corev1.EventTypeWarning, "BuildFailed", "kustomization.yaml: unknown field")

	code, out, errOut := weir(t, "events", "-n", ns, "--types", "Warning")
	if code != 0 || !strings.Contains(out, "BuildFailed") || strings.Contains(out, "ReconciliationSucceeded") {
		t.Errorf("--types Warning: code %d, %q\n%s", code, errOut, out)
	}
	code, out, _ = weir(t, "events", "-n", ns, "-o", "json")
	var list struct {
		Kind  string
		Items []corev1.Event
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || list.Kind != "EventList" || len(list.Items) != 2 {
		t.Errorf("-o json: code %d, %v:\n%s", code, err, out)
	}
	if code, out, _ = weir(t, "events", "-n", ns, "-o", "yaml", "--types", "warning"); code != 0 || !strings.Contains(out, "reason: BuildFailed") || strings.Contains(out, "ReconciliationSucceeded") {
		t.Errorf("-o yaml: code %d:\n%s", code, out)
	}
	if code, out, errOut = weir(t, "events", "-n", ns, "-o", "name"); code != 0 || out != "event/ok\nevent/bad\n" && out != "event/bad\nevent/ok\n" {
		t.Errorf("-o name: code %d, %q:\n%s", code, errOut, out)
	}
	if code, out, _ = weir(t, "events", "-n", ns, "--types", "Warning", "-o", "jsonpath={.items[*].message}"); code != 0 || out != "kustomization.yaml: unknown field" {
		t.Errorf("-o jsonpath: code %d: %q", code, out)
	}
	code, out, _ = weir(t, "events", "-n", ns, "-o", "wide", "--no-headers", "--types", "Warning")
	if fields := strings.Fields(out); code != 0 || strings.Contains(out, "LAST SEEN") || len(fields) < 7 || fields[4] != "3" || fields[6] != "kustomize-controller" {
		t.Errorf("-o wide --no-headers: code %d: %q", code, out)
	}
	if code, _, errOut = weir(t, "events", "--types", "Error"); code != 1 || !strings.Contains(errOut, "want Normal or Warning") {
		t.Errorf("--types Error: code %d, %q", code, errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watched := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- ExecuteContext(ctx, []string{"--kubeconfig", env.KubeconfigPath, "events", "-n", ns, "-w", "--types", "Warning"}, watched, &syncBuffer{})
	}()
	testenv.Eventually(t, 2*time.Minute, func() error {
		if !strings.Contains(watched.String(), "BuildFailed") {
			return errorf("the list before the watch: %q", watched.String())
		}
		return nil
	})
	event("later-ok", corev1.EventTypeNormal, "Progressing", "applying")
	event("later-bad", corev1.EventTypeWarning, "HealthCheckFailed", "Deployment/web: timeout")
	testenv.Eventually(t, 2*time.Minute, func() error {
		if !strings.Contains(watched.String(), "kustomization/apps   Deployment/web: timeout") {
			return errorf("watching: %q", watched.String())
		}
		return nil
	})
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("events -w ended with %d", code)
		}
	case <-time.After(time.Minute):
		t.Fatal("events -w did not end when interrupted")
	}
	if out := watched.String(); strings.Contains(out, "Progressing") || strings.Count(out, "LAST SEEN") != 1 {
		t.Errorf("want the warnings only, under one header:\n%s", out)
	}
}
