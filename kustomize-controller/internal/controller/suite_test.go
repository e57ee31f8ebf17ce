package controller

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/configwatch"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/testenv"
)

// The package's tests share one control plane, one running kustomize-controller, and an
// artifact server standing in for source-controller's: tests publish trees to it and set a
// GitRepository's status.artifact the way source-controller does.
var (
	env *testenv.Environment
	// reconciler is the running kustomize-controller.
	reconciler *KustomizationReconciler
	artifacts  = &artifactServer{files: map[string][]byte{}, faults: map[string]*fault{}, requests: map[string]int{}}
	// logs is what the controller logged, as JSON lines.
	logs testenv.SyncBuffer
	// testClock is the controller's clock for sync windows, which the window tests set.
	testClock = clocktesting.NewFakePassiveClock(time.Date(2026, 12, 6, 13, 0, 0, 0, time.UTC))
)

func TestMain(m *testing.M) {
	testenv.Main(m, &env, startController)
}

func startController(e *testenv.Environment) (func(), error) {
	testenv.SetLogger(zap.New(zap.WriteTo(&logs)))
	srv := httptest.NewServer(artifacts)
	artifacts.base = srv.URL
	byObject := configwatch.CacheOptions()
	// Sharded Kustomizations are left to the managers a test starts itself (startShard).
	byObject[&kustomizev1.Kustomization{}] = cache.ByObject{Label: labels.NewSelector().Add(unsharded)}
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme: e.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		// As main.go: only labelled ConfigMaps and Secrets are cached, as metadata.
		Cache: cache.Options{ByObject: byObject},
	})
	if err != nil {
		return nil, err
	}
	rec, err := events.NewRecorder(mgr.GetLogger(), "", "kustomize-controller", events.WithManager(mgr))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	reconciler = &KustomizationReconciler{
		Client: mgr.GetClient(), EventRecorder: rec, ControllerName: "kustomize-controller", SecretReader: e.Client,
		OwnerReader:       mgr.GetAPIReader(),
		Identities:        &identity.Resolver{Config: e.Config, Scheme: e.Scheme, Mapper: mgr.GetRESTMapper(), Reader: mgr.GetAPIReader()},
		Fetcher:           &artifact.Fetcher{AllowedHost: srv.Listener.Addr().String(), Retries: 1, Backoff: 50 * time.Millisecond},
		DependencyRequeue: time.Second,
		Clock:             testClock,
	}
	err = reconciler.SetupWithManager(ctx, mgr, 4)
	if err == nil {
		err = startSets(ctx, mgr, e)
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
	return func() { cancel(); <-done; srv.Close() }, nil
}

// artifactServer serves published artifacts by path; down makes it answer 503, and a path's
// fault spoils its next requests.
type artifactServer struct {
	mu       sync.Mutex
	base     string
	files    map[string][]byte
	down     bool
	faults   map[string]*fault
	requests map[string]int
}

// A fault spoils the next count requests of a path. Exactly one of its fields says how.
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
	down := s.down
	s.requests[r.URL.Path]++
	var f fault
	if ff := s.faults[r.URL.Path]; ff != nil && ff.count > 0 {
		ff.count--
		f = *ff
	}
	s.mu.Unlock()
	switch {
	case down:
		http.Error(w, "down", http.StatusServiceUnavailable)
	case !ok:
		http.NotFound(w, r)
	case f.delay > 0:
		select {
		case <-time.After(f.delay):
			_, _ = w.Write(b)
		case <-r.Context().Done():
		}
	case f.drop:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	case f.body != nil:
		_, _ = w.Write(f.body)
	default:
		_, _ = w.Write(b)
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

func (s *artifactServer) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// publish archives files as the artifact of GitRepository ns/name at revision and records it
// in the object's status, creating the object if needed.
func publish(t testing.TB, ns, name, revision string, files map[string]string) {
	t.Helper()
	publishWith(t, ns, name, revision, files, nil)
}

// tarball archives files as an artifact and returns it with its digest.
func tarball(t testing.TB, files map[string]string) ([]byte, string, int64) {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := artifact.Archive(&buf, dir, artifact.ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}
	digest, size, err := artifact.Digest(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), digest, size
}

// publishWith is publish calling before with the artifact's path on the server before the
// GitRepository's status names it, e.g. to spoil its downloads.
func publishWith(t testing.TB, ns, name, revision string, files map[string]string, before func(path string)) {
	t.Helper()
	b, digest, size := tarball(t, files)
	path := "/gitrepository/" + ns + "/" + name + "/" + digest[7:19] + ".tar.gz"
	artifacts.mu.Lock()
	artifacts.files[path] = b
	artifacts.mu.Unlock()
	if before != nil {
		before(path)
	}

	ctx := context.Background()
	repo := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(repo), repo); err != nil {
		repo.Spec = sourcev1.GitRepositorySpec{URL: "https://example.invalid/repo.git", Interval: metav1.Duration{Duration: time.Hour}}
		if err := env.Client.Create(ctx, repo); err != nil {
			t.Fatal(err)
		}
	}
	repo.Status.Artifact = &meta.Artifact{
		Path: path, URL: artifacts.base + path, Revision: revision, Digest: digest,
		LastUpdateTime: metav1.Now(), Size: &size,
	}
	repo.Status.ObservedGeneration = repo.Generation
	if err := env.Client.Status().Update(ctx, repo); err != nil {
		t.Fatal(err)
	}
}
