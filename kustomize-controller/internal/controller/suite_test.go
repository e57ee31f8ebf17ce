package controller

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
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
	artifacts  = &artifactServer{files: map[string][]byte{}}
)

func TestMain(m *testing.M) {
	testenv.Main(m, &env, startController)
}

func startController(e *testenv.Environment) (func(), error) {
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	srv := httptest.NewServer(artifacts)
	artifacts.base = srv.URL
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{Scheme: e.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
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
	}
	err = reconciler.SetupWithManager(ctx, mgr, 4)
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

// artifactServer serves published artifacts by path; down makes it answer 503.
type artifactServer struct {
	mu    sync.Mutex
	base  string
	files map[string][]byte
	down  bool
}

func (s *artifactServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b, ok := s.files[r.URL.Path]
	down := s.down
	s.mu.Unlock()
	switch {
	case down:
		http.Error(w, "down", http.StatusServiceUnavailable)
	case !ok:
		http.NotFound(w, r)
	default:
		_, _ = w.Write(b)
	}
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
	path := "/gitrepository/" + ns + "/" + name + "/" + digest[7:19] + ".tar.gz"
	artifacts.mu.Lock()
	artifacts.files[path] = buf.Bytes()
	artifacts.mu.Unlock()

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
