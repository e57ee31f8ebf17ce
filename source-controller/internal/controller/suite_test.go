package controller

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
	"github.com/fluxcd/pkg/runtime/events"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/storage"
)

// The package's tests share one control plane and one running source-controller: storage in a
// temporary directory, its artifact server, and the reconcilers, posting events to eventSink.
var (
	env          *testenv.Environment
	testStorage  *storage.Storage
	artifactHost string
	eventSink    = &eventCapture{}
	logSink      = &logCapture{}
)

// Limits of the test controller, lower than the defaults so that tests exceed them cheaply.
const (
	testMaxIndexSize = 1 << 20
	testMaxLayerSize = 1 << 20
)

func TestMain(m *testing.M) {
	testenv.Main(m, &env, startController)
}

func startController(e *testenv.Environment) (func(), error) {
	testenv.SetLogger(zap.New(zap.WriteTo(logSink)))
	dir, err := os.MkdirTemp("", "storage-")
	if err != nil {
		return nil, err
	}
	sinkSrv := httptest.NewServer(eventSink)
	mux := http.NewServeMux()
	artifactSrv := httptest.NewUnstartedServer(mux)
	artifactHost = artifactSrv.Listener.Addr().String()
	if testStorage, err = storage.New(dir, artifactHost, 2); err != nil {
		return nil, err
	}
	mux.Handle("/", testStorage.Handler())
	artifactSrv.Start()

	// GitRepositories a test gives its own controller (isolatedLabel) are not this one's.
	notIsolated, err := labels.Parse("!" + isolatedLabel)
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme: e.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{&sourcev1.GitRepository{}: {Label: notIsolated}}},
	})
	if err != nil {
		return nil, err
	}
	rec, err := events.NewRecorder(mgr.GetLogger(), sinkSrv.URL, "source-controller", events.WithManager(mgr))
	if err != nil {
		return nil, err
	}
	// Helm's packages must never touch the user's Helm directories.
	for _, k := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		os.Setenv(k, filepath.Join(dir, ".helm", k))
	}
	ctx, cancel := context.WithCancel(context.Background())
	err = (&GitRepositoryReconciler{
		Client: mgr.GetClient(), EventRecorder: rec, Storage: testStorage,
		ControllerName: "source-controller", DependencyRequeue: time.Second,
	}).SetupWithManager(ctx, mgr, 4)
	if err == nil {
		err = (&HelmRepositoryReconciler{
			Client: mgr.GetClient(), EventRecorder: rec, Storage: testStorage,
			ControllerName: "source-controller", MaxIndexSize: testMaxIndexSize,
		}).SetupWithManager(mgr, 4)
	}
	if err == nil {
		err = (&OCIRepositoryReconciler{
			Client: mgr.GetClient(), EventRecorder: rec, Storage: testStorage,
			ControllerName: "source-controller", MaxLayerSize: testMaxLayerSize,
		}).SetupWithManager(mgr, 4)
	}
	if err == nil {
		err = (&HelmChartReconciler{
			Client: mgr.GetClient(), EventRecorder: rec, Storage: testStorage,
			ControllerName: "source-controller", DependencyRequeue: time.Second,
		}).SetupWithManager(ctx, mgr, 4)
	}
	if err == nil {
		err = (&ArtifactGeneratorReconciler{
			Client: mgr.GetClient(), EventRecorder: rec, Storage: testStorage,
			ControllerName: "source-controller", DependencyRequeue: time.Second,
		}).SetupWithManager(ctx, mgr, 4)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			panic(err)
		}
	}()
	return func() {
		cancel()
		<-done
		artifactSrv.Close()
		sinkSrv.Close()
		os.RemoveAll(dir)
	}, nil
}

// eventCapture is a webhook standing in for notification-controller.
type eventCapture struct {
	mu     sync.Mutex
	events []eventv1.Event
}

func (c *eventCapture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev eventv1.Event
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.events = append(c.events, ev)
	c.mu.Unlock()
}

// about returns the events received about the object namespace/name.
func (c *eventCapture) about(namespace, name string) []eventv1.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []eventv1.Event
	for _, ev := range c.events {
		if ev.InvolvedObject.Namespace == namespace && ev.InvolvedObject.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

// mentioning returns a received event whose JSON contains s.
func (c *eventCapture) mentioning(s string) (eventv1.Event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range c.events {
		if b, _ := json.Marshal(ev); strings.Contains(string(b), s) {
			return ev, true
		}
	}
	return eventv1.Event{}, false
}

// logCapture keeps the controller's log output, so tests can check that no credential is logged.
type logCapture struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// contains reports whether the log so far contains s.
func (c *logCapture) contains(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Contains(c.buf.String(), s)
}
