package artifact

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestCacheDownloadsEachDigestOnce(t *testing.T) {
	s := newStorageServer(t, sampleArtifact(t))
	var checks int
	c := &Cache{Fetcher: s.fetcher(), Dir: t.TempDir(), Check: func(dir string) error {
		checks++
		return errors.New("checked " + filepath.Base(dir))
	}}
	var wg sync.WaitGroup
	trees := make([]*Tree, 20)
	for i := range trees {
		wg.Go(func() {
			tree, err := c.Get(context.Background(), s.URL+artifactPath, s.digest)
			if err != nil {
				t.Error(err)
				return
			}
			trees[i] = tree
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if n := s.hits.Load(); n != 1 {
		t.Errorf("%d downloads for 20 concurrent users, want 1", n)
	}
	if checks != 1 {
		t.Errorf("Check ran %d times, want 1", checks)
	}
	for _, tree := range trees {
		if tree.Dir != trees[0].Dir || tree.CheckErr == nil {
			t.Fatalf("tree %s, check %v; want %s and the check's error", tree.Dir, tree.CheckErr, trees[0].Dir)
		}
	}
	if got := readTree(t, trees[0].Dir); got["app.yaml"] != "kind: Pod\n" {
		t.Errorf("tree %q", got)
	}
	for _, tree := range trees {
		tree.Release()
		tree.Release() // a second release does nothing
	}
	// Kept while unused: no new download.
	tree, err := c.Get(context.Background(), s.URL+artifactPath, s.digest)
	must(t, err)
	tree.Release()
	if n := s.hits.Load(); n != 1 {
		t.Errorf("%d downloads after a release, want 1", n)
	}
}

func TestCacheEvictsUnusedTreesBeyondKeep(t *testing.T) {
	dir := t.TempDir()
	c := &Cache{Dir: filepath.Join(dir, "cache"), Keep: 2}
	var held *Tree
	var dirs []string
	for i := range 5 {
		src := t.TempDir()
		writeTree(t, src, map[string]string{"n.txt": string(rune('a' + i))})
		s := newStorageServer(t, archiveDir(t, src, ArchiveOptions{}))
		c.Fetcher = s.fetcher()
		tree, err := c.Get(context.Background(), s.URL+artifactPath, s.digest)
		must(t, err)
		dirs = append(dirs, tree.Dir)
		if i == 0 {
			held = tree // never released: must survive
			continue
		}
		tree.Release()
		time.Sleep(time.Millisecond) // distinct last-use times
	}
	exists := func(d string) bool { _, err := os.Stat(d); return err == nil }
	if !exists(dirs[0]) {
		t.Error("a held tree was removed")
	}
	if exists(dirs[1]) || exists(dirs[2]) {
		t.Error("the least recently used unheld trees were kept beyond Keep")
	}
	if !exists(dirs[3]) || !exists(dirs[4]) {
		t.Error("the most recently used trees were removed")
	}
	if c.Len() != 3 {
		t.Errorf("Len %d, want 3", c.Len())
	}
	held.Release()
	must(t, c.Clear())
	if entries, _ := os.ReadDir(c.Dir); len(entries) != 0 {
		t.Errorf("Clear left %d entries", len(entries))
	}
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	s := newStorageServer(t, sampleArtifact(t))
	s.handler = func(hit int32, w http.ResponseWriter, r *http.Request) bool {
		if hit == 1 {
			http.Error(w, "gone", http.StatusNotFound)
			return true
		}
		return false
	}
	c := &Cache{Fetcher: s.fetcher(), Dir: t.TempDir()}
	if _, err := c.Get(context.Background(), s.URL+artifactPath, s.digest); err == nil {
		t.Fatal("no error for a 404")
	}
	if entries, _ := os.ReadDir(c.Dir); len(entries) != 0 || c.Len() != 0 {
		t.Errorf("a failed download left %d entries, Len %d", len(entries), c.Len())
	}
	tree, err := c.Get(context.Background(), s.URL+artifactPath, s.digest)
	must(t, err)
	defer tree.Release()
	if got := readTree(t, tree.Dir); got["app.yaml"] != "kind: Pod\n" {
		t.Errorf("tree after a retry %q", got)
	}
	if _, err := c.Get(context.Background(), s.URL+artifactPath, "sha256:nothex"); err == nil {
		t.Error("a malformed digest is accepted")
	}
}

// A user whose context ends while another one's download runs gets its own error, and the
// download goes on for the others.
func TestCacheWaiterCancelled(t *testing.T) {
	s := newStorageServer(t, sampleArtifact(t))
	release := make(chan struct{})
	s.handler = func(hit int32, w http.ResponseWriter, r *http.Request) bool {
		<-release
		return false
	}
	c := &Cache{Fetcher: s.fetcher(), Dir: t.TempDir()}
	first := make(chan error, 1)
	go func() {
		tree, err := c.Get(context.Background(), s.URL+artifactPath, s.digest)
		if err == nil {
			tree.Release()
		}
		first <- err
	}()
	for c.Len() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx, s.URL+artifactPath, s.digest); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter: %v, want its deadline", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("the downloading user: %v", err)
	}
}

// The next revision of the same source reuses the files that did not change.
func TestCacheReusesTheSourcesLastTree(t *testing.T) {
	archive := func(files map[string]string) []byte {
		src := t.TempDir()
		writeTree(t, src, files)
		return archiveDir(t, src, ArchiveOptions{})
	}
	v1 := archive(map[string]string{"a.yaml": "same", "b.yaml": "v1"})
	v2 := archive(map[string]string{"a.yaml": "same", "b.yaml": "v2"})
	s := newStorageServer(t, v1)
	s.handler = func(hit int32, w http.ResponseWriter, r *http.Request) bool {
		if hit > 1 {
			_, _ = w.Write(v2)
			return true
		}
		return false
	}
	d2, _, _ := Digest(bytes.NewReader(v2))
	c := &Cache{Fetcher: s.fetcher(), Dir: t.TempDir()}
	t1, err := c.Get(context.Background(), s.URL+artifactPath, s.digest)
	must(t, err)
	t1.Release()
	t2, err := c.Get(context.Background(), s.URL+artifactPath, d2)
	must(t, err)
	defer t2.Release()
	if got := readTree(t, t2.Dir); got["b.yaml"] != "v2" || got["a.yaml"] != "same" {
		t.Fatalf("second revision %q", got)
	}
	a1, _ := os.Stat(filepath.Join(t1.Dir, "a.yaml"))
	a2, _ := os.Stat(filepath.Join(t2.Dir, "a.yaml"))
	if a1 == nil || a2 == nil || !os.SameFile(a1, a2) {
		t.Error("the unchanged file was written again instead of linked")
	}
}
