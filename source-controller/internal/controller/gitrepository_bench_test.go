package controller

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/git"
	"weir.dev/source-controller/internal/gittest"
	"weir.dev/source-controller/internal/sourceignore"
)

// BenchmarkArtifact10kFiles measures what a new revision of a 10,000-file repository costs:
// ls-remote, shallow fetch and checkout, ignore rules, and the archive written to storage.
// It reports the peak heap in use during the runs.
func BenchmarkArtifact10kFiles(b *testing.B) {
	srv := gittest.NewServer(b, gittest.Options{})
	files := make(map[string]string, 10000)
	for i := range 10000 {
		files[fmt.Sprintf("apps/app-%03d/cm-%02d.yaml", i/100, i%100)] =
			fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%05d\ndata:\n  rev: \"0\"\n", i)
	}
	srv.NewRepo(b, "org/big.git", "main", files)
	u, _ := url.Parse(srv.URL("org/big.git"))
	ctx := context.Background()

	var peak uint64
	stop := sampleHeap(&peak)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		target, err := git.Resolve(ctx, u, nil, git.Options{}, git.Reference{})
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		if _, _, err := git.Checkout(ctx, dir, u, nil, git.Options{}, &target, false); err != nil {
			b.Fatal(err)
		}
		m, err := sourceignore.New(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		a := testStorage.NewArtifact(sourcev1.GitRepositoryKind, "bench", fmt.Sprintf("big-%d", i), target.Revision(), target.Commit+".tar.gz")
		if err := testStorage.Archive(&a, dir, artifact.ArchiveOptions{Filter: m.Include}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = os.RemoveAll(dir)
		_ = testStorage.RemoveAll(sourcev1.GitRepositoryKind, "bench", fmt.Sprintf("big-%d", i))
		b.StartTimer()
	}
	b.StopTimer()
	stop()
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkNewRevisionMirrored10kFiles is what the controller pays for a new revision of the
// same 10,000-file repository that changes one file: ls-remote, shallow fetch into a bare
// repository, the mirror rewriting that one file, ignore rules and the archive.
func BenchmarkNewRevisionMirrored10kFiles(b *testing.B) {
	srv := gittest.NewServer(b, gittest.Options{})
	files := make(map[string]string, 10000)
	for i := range 10000 {
		files[fmt.Sprintf("apps/app-%03d/cm-%02d.yaml", i/100, i%100)] =
			fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%05d\ndata:\n  rev: \"0\"\n", i)
	}
	repo := srv.NewRepo(b, "org/big.git", "main", files)
	u, _ := url.Parse(srv.URL("org/big.git"))
	ctx := context.Background()
	mirror := &git.Mirror{Dir: filepath.Join(b.TempDir(), "mirror")}
	revision := func() {
		target, err := git.Resolve(ctx, u, nil, git.Options{}, git.Reference{})
		if err != nil {
			b.Fatal(err)
		}
		gitDir := b.TempDir()
		_, commit, err := git.Fetch(ctx, gitDir, u, nil, git.Options{}, &target, false)
		if err != nil {
			b.Fatal(err)
		}
		if err := mirror.Write(commit, nil); err != nil {
			b.Fatal(err)
		}
		m, err := sourceignore.New(mirror.Dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		a := testStorage.NewArtifact(sourcev1.GitRepositoryKind, "bench", "mirrored", target.Revision(), target.Commit+".tar.gz")
		if err := testStorage.Archive(&a, mirror.Dir, artifact.ArchiveOptions{Filter: m.Include}); err != nil {
			b.Fatal(err)
		}
		_ = os.RemoveAll(gitDir)
	}
	revision() // the first revision writes every file
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		repo.Commit(map[string]string{"apps/app-050/cm-00.yaml": fmt.Sprintf("rev: %d\n", i)}, "change", nil)
		repo.Push()
		b.StartTimer()
		revision()
	}
	b.StopTimer()
	_ = testStorage.RemoveAll(sourcev1.GitRepositoryKind, "bench", "mirrored")
}

// BenchmarkReconcileUnchanged measures one interval of an unchanged repository: the whole
// Reconcile, against the real API server and Git server, which lists refs and stops.
func BenchmarkReconcileUnchanged(b *testing.B) {
	srv := gittest.NewServer(b, gittest.Options{})
	srv.NewRepo(b, "org/app.git", "main", map[string]string{"a.yaml": "a"})
	ns := env.Namespace(b)
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "idle"},
		Spec:       sourcev1.GitRepositorySpec{URL: srv.URL("org/app.git"), Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := env.Client.Create(context.Background(), obj); err != nil {
		b.Fatal(err)
	}
	testenv.Eventually(b, timeout, env.ObjectIn(obj, meta.ReadyCondition, metav1.ConditionTrue, "", ""))
	r := &GitRepositoryReconciler{Client: env.Client, EventRecorder: events.NewNopRecorder(), Storage: testStorage, ControllerName: "bench"}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
	fetches := srv.Fetches.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := r.Reconcile(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if srv.Fetches.Load() != fetches {
		b.Fatalf("an unchanged repository was fetched")
	}
}

// sampleHeap records the peak HeapInuse every 10ms until the returned function is called.
func sampleHeap(peak *uint64) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-stopped }
}
