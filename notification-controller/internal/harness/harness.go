package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/events"
	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	ctrlcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/controller"
	"weir.dev/notification-controller/internal/egress"
	"weir.dev/notification-controller/internal/provider"
	"weir.dev/notification-controller/internal/server"
	"weir.dev/pkg/testenv"
)

// Manager is a running controller-runtime manager with the three reconcilers.
type Manager struct {
	Env *testenv.Environment
	// Client is the manager's cached client, as the servers use it.
	Client client.Client
	// Reader is the manager's API reader.
	Reader client.Reader
	// Clients allow cluster-internal addresses, as --allow-internal-addresses does, since the
	// tests' destinations listen on 127.0.0.1.
	Clients *provider.Clients
	// Log is the logger of the reconcilers and the servers; Logs holds everything it wrote.
	Log  logr.Logger
	Logs *SyncBuffer

	cancel  context.CancelFunc
	stopped chan error
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// DirectLabel on a Provider, Alert or Receiver hides it from the harness's reconcilers, for
// tests that call a reconciler with other settings themselves.
const DirectLabel = "test.weir.dev/direct"

var notDirect = func() labels.Selector {
	s, err := labels.Parse("!" + DirectLabel)
	if err != nil {
		panic(err)
	}
	return s
}()

// Start starts a manager against env with the reconcilers (cross-namespace references allowed)
// and the webhook-path index, and returns once its caches are synced. Stop it with Stop before
// the control plane stops, or the API server waits for its watches to end.
func Start(env *testenv.Environment) (*Manager, error) {
	logs := &SyncBuffer{}
	// Level -2 writes V(1) and V(2) lines too, so tests see everything that could leak.
	log := zap.New(zap.WriteTo(logs), zap.Level(zapcore.Level(-2)))
	ctrl.SetLogger(log)
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr(true)},
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&notificationv1.Provider{}: {Label: notDirect},
			&notificationv1.Alert{}:    {Label: notDirect},
			&notificationv1.Receiver{}: {Label: notDirect},
		}},
	})
	if err != nil {
		return nil, err
	}
	recorder, err := events.NewRecorder(log, "", controller.ControllerName, events.WithManager(mgr))
	if err != nil {
		return nil, err
	}
	m := &Manager{Env: env, Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Clients: provider.NewClients(&egress.Policy{AllowInternal: true}), Log: log, Logs: logs}
	opts := ctrlcontroller.Options{MaxConcurrentReconciles: 4}
	for _, setup := range []func() error{
		func() error {
			return (&controller.ProviderReconciler{Client: m.Client, EventRecorder: recorder, Clients: m.Clients}).SetupWithManager(mgr, opts)
		},
		func() error {
			return (&controller.AlertReconciler{Client: m.Client, EventRecorder: recorder}).SetupWithManager(mgr, opts)
		},
		func() error {
			return (&controller.ReceiverReconciler{Client: m.Client, EventRecorder: recorder}).SetupWithManager(mgr, opts)
		},
		func() error { return server.IndexWebhookPath(context.Background(), mgr.GetFieldIndexer()) },
	} {
		if err := setup(); err != nil {
			return nil, err
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	m.cancel, m.stopped = cancel, make(chan error, 1)
	go func() { m.stopped <- mgr.Start(runCtx) }()
	ctx, cancelWait := context.WithTimeout(context.Background(), cacheSyncTimeout)
	defer cancelWait()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		err := fmt.Errorf("the manager's cache did not sync within %s", cacheSyncTimeout)
		return nil, errors.Join(err, m.Stop())
	}
	return m, nil
}

// Bounds of the waits in Start, Stop and Main.
const (
	cacheSyncTimeout = 60 * time.Second
	// managerStopTimeout exceeds the manager's graceful shutdown timeout (30s by default), after
	// which a manager that stops normally returns.
	managerStopTimeout = 60 * time.Second
	// Setup and teardown in TestMain run outside `go test -timeout`: phaseTimeout bounds each
	// of them (starting or stopping the control plane, starting or stopping the manager).
	phaseTimeout = 3 * time.Minute
)

// Stop stops the manager and waits for it, at most managerStopTimeout. It returns an error
// only when the manager did not return in time; its own errors are printed.
func (m *Manager) Stop() error {
	m.cancel()
	select {
	case err := <-m.stopped:
		if err != nil {
			fmt.Fprintln(os.Stderr, "the manager stopped with:", err)
		}
		return nil
	case <-time.After(managerStopTimeout):
		// controller-runtime's Start does not return, even once its context ended, while its
		// caches have not synced.
		return fmt.Errorf("the manager did not stop within %s of its context ending", managerStopTimeout)
	}
}

// Main is a package's TestMain: it starts the control plane into *env and a Manager into *mgr,
// runs the tests, then stops the manager and the control plane, and exits with the tests' code.
//
// The tests' own timeout (`go test -timeout`) covers only m.Run; each phase around it is bounded
// by phaseTimeout, so that a hang there fails with the phase's name and every goroutine's stack
// instead of lasting until cmd/go kills the binary.
func Main(m *testing.M, env **testenv.Environment, mgr **Manager) {
	var e *testenv.Environment
	var err error
	within("starting the test control plane", nil, func() { e, err = testenv.Start() })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*env = e
	code := 1
	within("starting the manager", e, func() { *mgr, err = Start(e) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the manager:", err)
	} else {
		code = m.Run()
		within("stopping the manager", e, func() { err = (*mgr).Stop() })
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	within("stopping the test control plane", nil, func() { err = e.Stop() })
	if err != nil {
		fmt.Fprintln(os.Stderr, "stopping the test control plane:", err)
	}
	os.Exit(code)
}

// within runs f; if f takes longer than phaseTimeout, it stops env (unless nil) so that its
// processes do not outlive the binary, and panics with every goroutine's stack, as the tests'
// own timeout does.
func within(phase string, env *testenv.Environment, f func()) {
	timer := time.AfterFunc(phaseTimeout, func() {
		msg := fmt.Sprintf("harness: %s did not finish within %s", phase, phaseTimeout)
		fmt.Fprintln(os.Stderr, msg)
		if env != nil {
			stopped := make(chan struct{})
			go func() { _ = env.Stop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(30 * time.Second):
			}
		}
		debug.SetTraceback("all")
		panic(msg)
	})
	defer timer.Stop()
	f()
}

func ptr[T any](v T) *T { return &v }

// StartEventServer starts an event server on a loopback port for the test, filling Client,
// Clients and Log in opts when empty, and returns its URL.
func (m *Manager) StartEventServer(t testing.TB, opts server.EventServerOptions) string {
	opts.Addr = "127.0.0.1:0"
	if opts.Client == nil {
		opts.Client = m.Client
	}
	if opts.Clients == nil {
		opts.Clients = m.Clients
	}
	if opts.Log.GetSink() == nil {
		opts.Log = m.Log.WithName("events")
	}
	s := server.NewEventServer(opts)
	return "http://" + runServer(t, s.Start, s.Addr)
}

// StartReceiverServer starts a receiver server on a loopback port for the test, filling Client,
// Reader and Log in opts when empty, and returns its URL.
func (m *Manager) StartReceiverServer(t testing.TB, opts server.ReceiverServerOptions) string {
	opts.Addr = "127.0.0.1:0"
	if opts.Client == nil {
		opts.Client = m.Client
	}
	if opts.Reader == nil {
		opts.Reader = m.Reader
	}
	if opts.Log.GetSink() == nil {
		opts.Log = m.Log.WithName("receiver")
	}
	s := server.NewReceiverServer(opts)
	return "http://" + runServer(t, s.Start, s.Addr)
}

// runServer runs start until the test ends and returns the bound address.
func runServer(t testing.TB, start func(context.Context) error, addr func(context.Context) string) string {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("server did not stop within 30s")
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	a := addr(wctx)
	if a == "" {
		t.Fatal("the server did not listen within 10s")
	}
	return a
}

// Eventually calls f every 50ms until it returns nil, failing the test with f's last error
// after timeout.
func Eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiContext bounds one call to the API server: the clients have no timeout of their own.
func apiContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// Object is a reconciled kind.
type Object interface {
	client.Object
	conditions.Getter
}

// WaitReady waits until obj's Ready condition has status and reason (reason "" matches any),
// for the current generation when status is True, and returns its message.
func (m *Manager) WaitReady(t testing.TB, obj Object, status metav1.ConditionStatus, reason string) string {
	t.Helper()
	var msg string
	Eventually(t, 30*time.Second, func() error {
		ctx, cancel := apiContext()
		defer cancel()
		if err := m.Env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		c := conditions.Get(obj, meta.ReadyCondition)
		if c == nil {
			return fmt.Errorf("%s has no Ready condition", obj.GetName())
		}
		if c.Status != status || (reason != "" && c.Reason != reason) || (status == metav1.ConditionTrue && !observed(obj)) {
			return fmt.Errorf("%s Ready=%s %s %q (observed %v), want %s %s", obj.GetName(), c.Status, c.Reason, c.Message, observed(obj), status, reason)
		}
		msg = c.Message
		return nil
	})
	return msg
}

// observed reports whether obj's status.observedGeneration is its generation.
func observed(obj client.Object) bool {
	switch o := obj.(type) {
	case *notificationv1.Provider:
		return o.Status.ObservedGeneration == o.Generation
	case *notificationv1.Alert:
		return o.Status.ObservedGeneration == o.Generation
	case *notificationv1.Receiver:
		return o.Status.ObservedGeneration == o.Generation
	}
	return true
}

// Secret creates a Secret with string data and returns it.
func (m *Manager) Secret(t testing.TB, ns, name string, data map[string]string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data}
	m.Create(t, s)
	return s
}

// Create creates obj, failing the test on error.
func (m *Manager) Create(t testing.TB, obj client.Object) {
	t.Helper()
	ctx, cancel := apiContext()
	defer cancel()
	if err := m.Env.Client.Create(ctx, obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// Update re-reads obj, applies edit and updates it, retrying on conflicts.
func Update[T client.Object](t testing.TB, c client.Client, obj T, edit func(T)) {
	t.Helper()
	Eventually(t, 10*time.Second, func() error {
		ctx, cancel := apiContext()
		defer cancel()
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		edit(obj)
		return c.Update(ctx, obj)
	})
}

// EventsOf returns the messages of the Kubernetes Events recorded in ns.
func (m *Manager) EventsOf(t testing.TB, ns string) string {
	t.Helper()
	list := &corev1.EventList{}
	ctx, cancel := apiContext()
	defer cancel()
	if err := m.Env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range list.Items {
		fmt.Fprintf(&b, "%s %s %s: %s\n", e.Type, e.InvolvedObject.Name, e.Reason, e.Message)
	}
	return b.String()
}

// HTTPClient is the client tests call the servers with: it gives up after 30s, so a handler
// that never answers fails the test instead of hanging it.
var HTTPClient = &http.Client{Timeout: 30 * time.Second}

// Post sends body to url with HTTPClient and returns the status and the answer.
func Post(t testing.TB, url string, header http.Header, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := HTTPClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// CheckStalled returns nil when obj has Stalled=True with the same reason as Ready.
func CheckStalled(obj Object) error {
	ready, stalled := conditions.Get(obj, meta.ReadyCondition), conditions.Get(obj, meta.StalledCondition)
	if stalled == nil || stalled.Status != metav1.ConditionTrue {
		return fmt.Errorf("%s is not Stalled: %+v", obj.GetName(), stalled)
	}
	if ready == nil || ready.Reason != stalled.Reason {
		return fmt.Errorf("%s: Stalled reason %s differs from Ready's %+v", obj.GetName(), stalled.Reason, ready)
	}
	if conditions.Has(obj, meta.ReconcilingCondition) {
		return fmt.Errorf("%s is Stalled and Reconciling at once", obj.GetName())
	}
	return nil
}
