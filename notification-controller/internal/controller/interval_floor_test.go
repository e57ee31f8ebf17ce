package controller_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/controller"
	"weir.dev/notification-controller/internal/egress"
	"weir.dev/notification-controller/internal/harness"
	"weir.dev/notification-controller/internal/provider"
	"weir.dev/pkg/app"
	"weir.dev/pkg/predicates"
)

// TestIntervalBelowTheFloor runs the Provider reconciler as main wires it, with a floor of 2s,
// under a controller of its own that counts reconciles: a Provider asking for `interval: 1ms`
// is reconciled no more often than every 2s, and a warning event and one log line say so.
//
// The count is checked against an upper bound only (the create event, plus one reconcile per
// floor elapsed, plus one to spare): a loaded machine makes reconciles rarer, never more
// frequent, so load cannot fail the test. Without the floor, the Provider is reconciled
// hundreds of times a second.
func TestIntervalBelowTheFloor(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	const floor = 2 * time.Second

	logs := &harness.SyncBuffer{}
	log := zap.New(zap.WriteTo(logs))
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Logger:                 log,
		Controller:             config.Controller{SkipNameValidation: ptr(true)},
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&notificationv1.Provider{}: {Label: labels.SelectorFromSet(labels.Set{harness.DirectLabel: "floor"})},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	recorder, err := events.NewRecorder(log, "", controller.ControllerName, events.WithManager(mgr))
	if err != nil {
		t.Fatal(err)
	}
	r := &controller.ProviderReconciler{
		Client: mgr.GetClient(), EventRecorder: recorder,
		Clients:   provider.NewClients(&egress.Policy{AllowInternal: true}),
		Intervals: app.NewIntervals(floor, 5, log, recorder),
	}
	var reconciles atomic.Int64
	err = ctrl.NewControllerManagedBy(mgr).
		For(&notificationv1.Provider{}, builder.WithPredicates(predicates.Default())).
		Named("provider-interval-floor").
		Complete(reconcile.Func(func(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
			reconciles.Add(1)
			return r.Reconcile(ctx, req)
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(60 * time.Second):
			t.Error("the test's manager did not stop within 60s")
		}
	})

	p := newProvider(ns, "every-ms", "generic", func(s *notificationv1.ProviderSpec) {
		s.Address = "https://example.com/hook"
		s.Interval = &metav1.Duration{Duration: time.Millisecond}
	})
	p.Labels = map[string]string{harness.DirectLabel: "floor"}
	created := time.Now()
	m.Create(t, p)
	m.WaitReady(t, p, metav1.ConditionTrue, meta.SucceededReason)

	// Periodic reconciles do happen, at the floor: wait for a few (no deadline on how fast).
	const want = 4
	harness.Eventually(t, 2*time.Minute, func() error {
		if n := reconciles.Load(); n < want {
			return fmt.Errorf("%d reconciles, want at least %d", n, want)
		}
		return nil
	})
	elapsed := time.Since(created)
	n := reconciles.Load()
	if most := 2 + int64(elapsed/floor); n > most {
		t.Errorf("%d reconciles in %s: more than %d, the most a floor of %s allows", n, elapsed.Round(time.Millisecond), most, floor)
	}
	t.Logf("%d reconciles in %s with interval 1ms and a floor of %s", n, elapsed.Round(time.Millisecond), floor)

	msg := "spec.interval 1ms is below the controller's floor --min-interval=2s; reconciling every 2s"
	var warnings []string
	harness.Eventually(t, 30*time.Second, func() error {
		list := &corev1.EventList{}
		if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			return err
		}
		warnings = warnings[:0]
		for _, e := range list.Items {
			if e.InvolvedObject.Name == p.Name && e.Reason == app.IntervalBelowFloorReason {
				warnings = append(warnings, fmt.Sprintf("%s %s (count %d)", e.Type, e.Message, max(e.Count, 1)))
			}
		}
		if len(warnings) == 0 {
			return fmt.Errorf("no %s event on Provider %s", app.IntervalBelowFloorReason, p.Name)
		}
		return nil
	})
	if len(warnings) != 1 || warnings[0] != "Warning "+msg+" (count 1)" {
		t.Errorf("events %q, want one warning %q", warnings, msg)
	}
	// One log line naming the Provider, however many reconciles.
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, msg) {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], `"name":"every-ms"`) || !strings.Contains(lines[0], `"namespace":"`+ns+`"`) {
		t.Errorf("log lines with the floor's message: %q, want one naming %s/%s", lines, ns, p.Name)
	}
}

func ptr[T any](v T) *T { return &v }
