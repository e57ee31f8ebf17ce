package controller

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/events"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
	"weir.dev/source-controller/internal/storage"
)

// isolatedLabel marks the GitRepositories a test reconciles with a controller of its own (see
// startIsolatedController); the package's shared controller ignores them.
const isolatedLabel = "test.weir.dev/isolated"

// TestStorageFull: with the storage on a small tmpfs, a revision whose artifact does not fit
// fails with StorageOperationFailed saying the device has no space left; the previous
// artifact is still served intact, no partial file is left in the storage, and once the tmpfs
// is remounted bigger the new revision is stored and served, with no reconcile request.
func TestStorageFull(t *testing.T) {
	ns := env.Namespace(t)
	dir := t.TempDir()
	mountTmpfs(t, dir, "256k")
	startIsolatedController(t, ns, "storage-full", dir)

	srv := gittest.NewServer(t, gittest.Options{})
	repo := srv.NewRepo(t, "org/app.git", "main", map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"})
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), func(g *sourcev1.GitRepository) {
		g.Labels = map[string]string{isolatedLabel: "storage-full"}
		g.Spec.Interval.Duration = time.Hour
	})
	first := waitArtifact(t, obj, revisionIs("main@sha1:"+srv.Head(t, "org/app.git")))
	good := fetchVerified(t, first)

	// 512 KiB of random bytes do not compress: the artifact cannot fit in 256 KiB.
	big := make([]byte, 512<<10)
	_, _ = rand.Read(big)
	c2 := repo.Commit(map[string]string{"deploy/big.bin": string(big)}, "too big for the storage", nil)
	repo.Push()
	requestReconcileOf(t, obj)
	waitFailure(t, obj, sourcev1.StorageOperationFailedReason, "the storage is full (no space left on device)", false)
	// The message names the artifact, not the storage's directory or temporary files.
	if msg := conditions.GetMessage(obj, meta.ReadyCondition); strings.Contains(msg, dir) || strings.Contains(msg, ".tmp-") ||
		!strings.Contains(msg, "gitrepository/"+ns+"/app/"+c2+".tar.gz") {
		t.Errorf("Ready message %q: want the artifact's path and neither the storage directory nor a temporary file", msg)
	}
	if a := obj.Status.Artifact; a == nil || a.Revision != first.Revision || a.Digest != first.Digest {
		t.Fatalf("status.artifact %+v after the failure, want the previous one %+v", a, first)
	}
	if got := fetchVerified(t, first); !bytes.Equal(got, good) {
		t.Fatal("the previous artifact changed")
	}
	// Only the previous artifact is in the storage: no partial or temporary file. The
	// controller retries the failed revision with backoff, and a retry in progress has a
	// temporary file of its own; a leaked one stays, so wait for a moment with none.
	testenv.Eventually(t, timeout, func() error {
		var files []string
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		if len(files) != 1 || files[0] != first.Path {
			return fmt.Errorf("files in the storage %v, want only %s", files, first.Path)
		}
		return nil
	})

	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size=8m"); err != nil {
		t.Fatalf("remounting the storage bigger: %v", err)
	}
	second := waitArtifact(t, obj, revisionIs("main@sha1:"+c2))
	if second.Digest == first.Digest {
		t.Fatal("the new revision has the old digest")
	}
	fetchVerified(t, second)
}

// fetchVerified returns the artifact's bytes from the artifact server, failing the test unless
// they match its digest.
func fetchVerified(t *testing.T, a *meta.Artifact) []byte {
	t.Helper()
	b := fetchRaw(t, a)
	digest, _, err := artifact.Digest(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if digest != a.Digest {
		t.Fatalf("GET %s: digest %s, want %s", a.URL, digest, a.Digest)
	}
	return b
}

// mountTmpfs mounts a tmpfs of size on dir until the test ends; the test is skipped when the
// process may not mount (EPERM).
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("mounting a tmpfs needs CAP_SYS_ADMIN: %v", err)
		}
		t.Fatalf("mounting a tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
}

// startIsolatedController runs a GitRepository controller of its own, with its storage and
// artifact server on dir, for the GitRepositories in ns labelled isolatedLabel=value, until
// the test ends.
func startIsolatedController(t *testing.T, ns, value, dir string) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	st, err := storage.New(dir, srv.Listener.Addr().String(), 2)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", st.Handler())
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = st.Close()
	})

	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: cache.Options{
			DefaultNamespaces: map[string]cache.Config{ns: {}},
			ByObject: map[client.Object]cache.ByObject{
				&sourcev1.GitRepository{}: {Label: labels.SelectorFromSet(labels.Set{isolatedLabel: value})},
			},
		},
		// The package's shared controller has the same name in this process.
		Controller: config.Controller{SkipNameValidation: new(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := events.NewRecorder(mgr.GetLogger(), "", "source-controller", events.WithManager(mgr))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &GitRepositoryReconciler{
		Client: mgr.GetClient(), EventRecorder: rec, Storage: st,
		ControllerName: "source-controller", DependencyRequeue: time.Second,
	}
	if err := r.SetupWithManager(ctx, mgr, 1); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("isolated controller: %v", err)
		}
	})
}
