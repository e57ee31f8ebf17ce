package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"weir.dev/api/meta"
)

// writeGenerations writes n artifacts of one object, 0.tar.gz oldest, with mtimes a minute
// apart, and returns them.
func writeGenerations(t *testing.T, s *Storage, name string, n int) []meta.Artifact {
	t.Helper()
	var out []meta.Artifact
	base := time.Now().Add(-time.Hour)
	for i := range n {
		a := s.NewArtifact("GitRepository", "ns", name, fmt.Sprint(i), fmt.Sprintf("%d.tar.gz", i))
		must(t, s.WriteFile(&a, strings.NewReader(fmt.Sprint("generation ", i))))
		mtime := base.Add(time.Duration(i) * time.Minute)
		must(t, os.Chtimes(filepath.Join(s.dir, a.Path), mtime, mtime))
		out = append(out, a)
	}
	return out
}

func TestGarbageCollectKeepsRetention(t *testing.T) {
	tests := []struct {
		retention int
		current   int      // index of the current generation among 0..4
		kept      []string // what remains
	}{
		{retention: 1, current: 4, kept: []string{"4.tar.gz"}},
		{retention: 2, current: 4, kept: []string{"3.tar.gz", "4.tar.gz"}},
		{retention: 3, current: 4, kept: []string{"2.tar.gz", "3.tar.gz", "4.tar.gz"}},
		// The current artifact is kept even when it is not the newest (a rollback).
		{retention: 2, current: 1, kept: []string{"1.tar.gz", "4.tar.gz"}},
		{retention: 10, current: 4, kept: []string{"0.tar.gz", "1.tar.gz", "2.tar.gz", "3.tar.gz", "4.tar.gz"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("retention=%d,current=%d", tc.retention, tc.current), func(t *testing.T) {
			s := newStorage(t, tc.retention)
			gens := writeGenerations(t, s, "app", 5)
			other := writeGenerations(t, s, "other", 3)

			deleted, err := s.GarbageCollect(gens[tc.current])
			must(t, err)

			kept := listDir(t, s, "gitrepository/ns/app")
			if !slices.Equal(kept, tc.kept) {
				t.Errorf("kept %q, want %q", kept, tc.kept)
			}
			var wantDeleted []string
			for i := range 5 {
				name := fmt.Sprintf("%d.tar.gz", i)
				if !slices.Contains(tc.kept, name) {
					wantDeleted = append(wantDeleted, "gitrepository/ns/app/"+name)
				}
			}
			slices.Sort(deleted)
			if !slices.Equal(deleted, wantDeleted) {
				t.Errorf("deleted %q, want %q", deleted, wantDeleted)
			}
			for _, a := range other {
				if !s.Exists(a) {
					t.Errorf("another object's %s was collected", a.Path)
				}
			}
		})
	}
}

func TestGarbageCollectTempFiles(t *testing.T) {
	s := newStorage(t, 1)
	gens := writeGenerations(t, s, "app", 1)
	dir := filepath.Join(s.dir, "gitrepository", "ns", "app")
	stale, fresh := filepath.Join(dir, tempPrefix+"stale"), filepath.Join(dir, tempPrefix+"fresh")
	must(t, os.WriteFile(stale, []byte("crashed write"), 0o644))
	must(t, os.WriteFile(fresh, []byte("write in progress"), 0o644))
	old := time.Now().Add(-time.Hour)
	must(t, os.Chtimes(stale, old, old))
	must(t, os.Mkdir(filepath.Join(dir, "subdir"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, ".hidden"), nil, 0o644))

	deleted, err := s.GarbageCollect(gens[0])
	must(t, err)
	if !slices.Equal(deleted, []string{"gitrepository/ns/app/" + tempPrefix + "stale"}) {
		t.Errorf("deleted %q", deleted)
	}
	want := []string{".hidden", tempPrefix + "fresh", "0.tar.gz", "subdir"}
	if got := listDir(t, s, "gitrepository/ns/app"); !slices.Equal(got, want) {
		t.Errorf("left %q, want %q", got, want)
	}

	// An object without a directory has nothing to collect.
	if d, err := s.GarbageCollect(s.NewArtifact("GitRepository", "ns", "none", "r", "x.tar.gz")); err != nil || len(d) != 0 {
		t.Errorf("missing object: %q %v", d, err)
	}
}

func TestRemoveAll(t *testing.T) {
	s := newStorage(t, 3)
	app := writeGenerations(t, s, "app", 3)
	other := writeGenerations(t, s, "other", 1)

	must(t, s.RemoveAll("GitRepository", "ns", "app"))
	for _, a := range app {
		if s.Exists(a) {
			t.Errorf("%s survived", a.Path)
		}
	}
	if _, err := os.Stat(filepath.Join(s.dir, "gitrepository", "ns", "app")); !os.IsNotExist(err) {
		t.Errorf("object directory survived: %v", err)
	}
	if !s.Exists(other[0]) {
		t.Error("another object's artifact was removed")
	}
	must(t, s.RemoveAll("GitRepository", "ns", "app")) // again: nothing to do
}
