package steps

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	runtimectrl "github.com/fluxcd/pkg/runtime/controller"
	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestBackoffDoublesIsBoundedLogsAndForgets(t *testing.T) {
	b := NewBackoff(runtimectrl.RateLimiterOptions{MinRetryDelay: time.Second, MaxRetryDelay: 5 * time.Second})
	var logs bytes.Buffer
	ctx := log.IntoContext(context.Background(), funcr.New(func(prefix, args string) {
		logs.WriteString(args + "\n")
	}, funcr.Options{}).WithValues("name", "app"))
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "app"}}
	other := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "other"}}
	boom := errors.New("connection refused")
	o := Outcome{Kind: Transient, Reason: "ArtifactFailed", Message: boom.Error(), Err: boom}

	// The object's own bound (3s) caps the flag's maximum (5s).
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second} {
		res, err := b.Retry(ctx, req, o, 3*time.Second, "host", "storage:9090")
		if !errors.Is(err, boom) || res.RequeueAfter != 0 {
			t.Fatalf("attempt %d: Retry = %+v, %v; want the error and no RequeueAfter", i+1, res, err)
		}
		if got := b.When(req); got != want {
			t.Fatalf("attempt %d: When = %s, want %s", i+1, got, want)
		}
		if n := b.NumRequeues(req); n != i+1 {
			t.Fatalf("attempt %d: NumRequeues = %d", i+1, n)
		}
	}
	// Without a bound the flag's maximum holds; other objects have their own count.
	if got := b.When(other); got != time.Second {
		t.Fatalf("another object's first delay %s, want 1s", got)
	}
	for range 3 {
		b.When(req)
	}
	if got := b.When(req); got != 5*time.Second {
		t.Fatalf("unbounded delay %s, want the maximum 5s", got)
	}
	b.Forget(req)
	if got := b.When(req); got != time.Second {
		t.Fatalf("after Forget the delay is %s, want 1s", got)
	}
	for _, want := range []string{`"name"="app"`, `"reason"="ArtifactFailed"`, `"attempt"=4`, `"retryIn"="3s"`,
		`"error"="connection refused"`, `"host"="storage:9090"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}

// TestLogStalled: a stalled outcome is logged once with ctx's logger (which names the object
// in a reconcile), with its reason and message; other outcomes are not.
func TestLogStalled(t *testing.T) {
	var lines []string
	logger := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})
	ctx := log.IntoContext(context.Background(), logger.WithValues("Kustomization", "apps/web"))
	LogStalled(ctx, Classify(Stalled("BuildFailed", errors.New("kustomization.yaml: bad")), ""))
	LogStalled(ctx, Classify(errors.New("connection refused"), "ArtifactFailed"))
	LogStalled(ctx, Classify(nil, ""))
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1: %q", len(lines), lines)
	}
	for _, want := range []string{`"Kustomization"="apps/web"`, `"reason"="BuildFailed"`, `kustomization.yaml: bad`, "stalled"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %s lacks %s", lines[0], want)
		}
	}
}
