package controller

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/configwatch"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/testenv"
)

// The package's tests share one control plane, one running helm-controller (in process), and
// an artifact server standing in for source-controller's storage: tests package charts with
// Helm's own packages, publish them there and set a HelmChart's or OCIRepository's
// status.artifact the way source-controller does. Paths the server does not hold are proxied
// to a real source-controller when a test started one (see the end-to-end test).
var (
	env       *testenv.Environment
	artifacts = &artifactServer{files: map[string][]byte{}, faults: map[string]*fault{}, requests: map[string]int{}}
	// logs is what the controller logged, as JSON lines.
	logs testenv.SyncBuffer
	// cachedClient reads through the controller's cache.
	cachedClient client.Client
)

// testClock is the controller's clock for sync windows, which the window tests set.
var testClock = clocktesting.NewFakePassiveClock(time.Date(2026, 12, 6, 13, 0, 0, 0, time.UTC))

func TestMain(m *testing.M) {
	testenv.Main(m, &env, isolateHelm, startController)
}

// isolateHelm points Helm's cache, config and data directories at a temporary directory.
func isolateHelm(*testenv.Environment) (func(), error) {
	dir, err := os.MkdirTemp("", "helm-home-")
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		if err := os.Setenv(k, filepath.Join(dir, k)); err != nil {
			return nil, err
		}
	}
	return func() { os.RemoveAll(dir) }, nil
}

func startController(e *testenv.Environment) (func(), error) {
	testenv.SetLogger(zap.New(zap.WriteTo(&logs)))
	srv := httptest.NewServer(artifacts)
	artifacts.base = srv.URL
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme: e.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		// As main.go: only labelled ConfigMaps and Secrets are cached, as metadata, and
		// Kustomizations trimmed to what a dependency check reads.
		Cache: cache.Options{ByObject: withCacheOptions(configwatch.CacheOptions())},
	})
	if err != nil {
		return nil, err
	}
	cachedClient = mgr.GetClient()
	rec, err := events.NewRecorder(mgr.GetLogger(), "", "helm-controller", events.WithManager(mgr))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	err = (&HelmReleaseReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), EventRecorder: rec, ControllerName: "helm-controller",
		Fetcher: &artifact.Fetcher{AllowedHost: srv.Listener.Addr().String(), Retries: 1, Backoff: 50 * time.Millisecond},
		Identities: &identity.Resolver{
			Config: e.Config, Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), Reader: mgr.GetAPIReader(),
		},
		DependencyRequeue: time.Second,
		Clock:             testClock,
	}).SetupWithManager(ctx, mgr, 8)
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
	return func() { cancel(); <-done; srv.Close() }, nil
}

// artifactServer serves published artifacts by path; other paths go to upstream, if set. A
// path's fault spoils its next requests.
type artifactServer struct {
	mu       sync.Mutex
	base     string
	files    map[string][]byte
	upstream *httputil.ReverseProxy
	faults   map[string]*fault
	requests map[string]int
}

// A fault spoils the next count requests of a path. Exactly one of its other fields says how.
type fault struct {
	count int
	// delay answers only after this long, or when the client gives up.
	delay time.Duration
	// drop closes the connection without an answer.
	drop bool
	// body is served instead of the artifact.
	body []byte
}

func (s *artifactServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b, ok := s.files[r.URL.Path]
	up := s.upstream
	s.requests[r.URL.Path]++
	var f fault
	if ff := s.faults[r.URL.Path]; ff != nil && ff.count > 0 {
		ff.count--
		f = *ff
	}
	s.mu.Unlock()
	switch {
	case ok && f.delay > 0:
		select {
		case <-time.After(f.delay):
			_, _ = w.Write(b)
		case <-r.Context().Done():
		}
	case ok && f.drop:
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
	case ok && f.body != nil:
		_, _ = w.Write(f.body)
	case ok:
		_, _ = w.Write(b)
	case up != nil:
		up.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// spoil makes the next f.count requests of path fail as f says.
func (s *artifactServer) spoil(path string, f fault) {
	s.mu.Lock()
	s.faults[path] = &f
	s.mu.Unlock()
}

// faultsLeft is how many spoiled requests of path have not come yet.
func (s *artifactServer) faultsLeft(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.faults[path]; f != nil {
		return f.count
	}
	return 0
}

// requestsOf is how many requests path had.
func (s *artifactServer) requestsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// proxyTo sends paths the server does not hold to target until the test ends.
func (s *artifactServer) proxyTo(t testing.TB, target string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.upstream = httputil.NewSingleHostReverseProxy(u)
	s.mu.Unlock()
	t.Cleanup(func() {
		s.mu.Lock()
		s.upstream = nil
		s.mu.Unlock()
	})
}

// host is host:port of the artifact server.
func (s *artifactServer) host() string { return s.base[len("http://"):] }

// store publishes b at a path made of prefix and its digest and returns the artifact.
func (s *artifactServer) store(t testing.TB, prefix, revision string, b []byte) *meta.Artifact {
	t.Helper()
	digest, size, err := artifact.Digest(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	path := prefix + "/" + digest[7:19] + ".tgz"
	s.mu.Lock()
	s.files[path] = b
	s.mu.Unlock()
	return &meta.Artifact{Path: path, URL: s.base + path, Revision: revision, Digest: digest, LastUpdateTime: metav1.Now(), Size: &size}
}

// testChart describes a chart packageChart writes.
type testChart struct {
	name, version string
	// files are written over the default chart (Chart.yaml, values.yaml and one ConfigMap
	// template named <release>-cm holding the values as JSON and the chart version); "-"
	// deletes a file.
	files map[string]string
}

const defaultTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-cm
data:
  values: {{ toJson .Values | quote }}
  chartVersion: {{ .Chart.Version | quote }}
`

// packageChart builds the chart with Helm's loader and packages it with chartutil.Save, the
// way `helm package` does, and returns the .tgz.
func packageChart(t testing.TB, c testChart) []byte {
	t.Helper()
	if c.name == "" {
		c.name = "demo"
	}
	if c.version == "" {
		c.version = "1.0.0"
	}
	dir := filepath.Join(t.TempDir(), c.name)
	files := map[string]string{
		"Chart.yaml":               fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\nappVersion: \"1.0\"\nkubeVersion: \">=1.20.0-0\"\n", c.name, c.version),
		"values.yaml":              "fromChart: true\n",
		"templates/configmap.yaml": defaultTemplate,
	}
	for k, v := range c.files {
		if v == "-" {
			delete(files, k)
			continue
		}
		files[k] = v
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	path, err := chartutil.Save(ch, out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// publishChart packages c and publishes it as the artifact of HelmChart ns/name, creating the
// HelmChart (of a HelmRepository "repo") if needed, and marks it Ready for its generation, as
// source-controller does.
func publishChart(t testing.TB, ns, name string, c testChart) {
	t.Helper()
	ctx := context.Background()
	hc := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hc), hc); err != nil {
		hc.Spec = sourcev1.HelmChartSpec{
			Chart: "demo", Version: "*", Interval: metav1.Duration{Duration: time.Hour},
			SourceRef: sourcev1.HelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "repo"},
		}
		if err := env.Client.Create(ctx, hc); err != nil {
			t.Fatal(err)
		}
	}
	setChartArtifact(t, hc, c)
}

// setChartArtifact packages c and makes it hc's artifact, Ready for hc's generation.
func setChartArtifact(t testing.TB, hc *sourcev1.HelmChart, c testChart) {
	t.Helper()
	if c.version == "" {
		c.version = "1.0.0"
	}
	b := packageChart(t, c)
	hc.Status.Artifact = artifacts.store(t, "/helmchart/"+hc.Namespace+"/"+hc.Name, c.version, b)
	hc.Status.URL = hc.Status.Artifact.URL
	markSourceReady(t, hc, &hc.Status.ObservedGeneration, &hc.Status.Conditions, "packaged chart version "+c.version)
}

// failChart marks HelmChart ns/name not Ready with msg, keeping its artifact, as
// source-controller does when the chart cannot be fetched.
func failChart(t testing.TB, ns, name, msg string) {
	t.Helper()
	hc := &sourcev1.HelmChart{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, hc); err != nil {
		t.Fatal(err)
	}
	hc.Status.ObservedGeneration = hc.Generation
	hc.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: "ChartPullFailed",
		Message: msg, ObservedGeneration: hc.Generation, LastTransitionTime: metav1.Now()}}
	if err := env.Client.Status().Update(context.Background(), hc); err != nil {
		t.Fatal(err)
	}
}

// publishOCI packages c and publishes it as the artifact of OCIRepository ns/name at tag, the
// way source-controller stores a chart layer with the copy operation.
func publishOCI(t testing.TB, ns, name, tag string, c testChart) *meta.Artifact {
	t.Helper()
	ctx := context.Background()
	repo := &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(repo), repo); err != nil {
		repo.Spec = sourcev1.OCIRepositorySpec{URL: "oci://registry.invalid/charts/demo", Interval: metav1.Duration{Duration: time.Hour}}
		if err := env.Client.Create(ctx, repo); err != nil {
			t.Fatal(err)
		}
	}
	b := packageChart(t, c)
	a := artifacts.store(t, "/ocirepository/"+ns+"/"+name, "", b)
	a.Revision = tag + "@" + a.Digest
	repo.Status.Artifact = a
	markSourceReady(t, repo, &repo.Status.ObservedGeneration, &repo.Status.Conditions, "stored artifact for revision "+a.Revision)
	return a
}

func markSourceReady(t testing.TB, obj client.Object, observed *int64, conds *[]metav1.Condition, msg string) {
	t.Helper()
	*observed = obj.GetGeneration()
	*conds = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: msg, ObservedGeneration: obj.GetGeneration(), LastTransitionTime: metav1.Now()}}
	if err := env.Client.Status().Update(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

// withCacheOptions adds CacheOptions to opts, as main.go does.
func withCacheOptions(opts map[client.Object]cache.ByObject) map[client.Object]cache.ByObject {
	for o, b := range CacheOptions() {
		opts[o] = b
	}
	return opts
}
