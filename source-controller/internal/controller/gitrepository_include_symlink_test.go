package controller

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
)

// TestGitRepositoryIncludeThroughSymlink: a symlink committed to lead out of the clone, used
// as the including repository's toPath or the included repository's fromPath, is refused with
// IncludePathInvalid and a message naming the link, and nothing outside the trees is read,
// removed or written.
func TestGitRepositoryIncludeThroughSymlink(t *testing.T) {
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(outside, "base"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "base", "keep.txt"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, outside)

	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/shared.git", "main", map[string]string{"base/cm.yaml": "shared", "link": "symlink:" + outside})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"app.yaml": "app", "escape": "symlink:" + outside})
	shared := createGitRepository(t, ns, "shared", srv.URL("org/shared.git"), nil)
	waitRevision(t, shared, "main@sha1:"+srv.Head(t, "org/shared.git"))

	for _, tc := range []struct {
		name     string
		from, to string
		msg      string
	}{
		{"to", "base", "escape/base", "toPath 'escape/base' passes through the symlink 'escape'"},
		{"from", "link", "vendor", "fromPath 'link'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() { // also when the wait below fails
				if after := snapshot(t, outside); !maps.Equal(before, after) {
					t.Errorf("the directory outside the clone changed: %v, was %v", after, before)
				}
			}()
			obj := createGitRepository(t, ns, "app-"+tc.name, srv.URL("org/app.git"), func(o *sourcev1.GitRepository) {
				o.Spec.Include = []sourcev1.GitRepositoryInclude{{GitRepositoryRef: meta.LocalObjectReference{Name: "shared"}, FromPath: tc.from, ToPath: tc.to}}
			})
			waitFailure(t, obj, sourcev1.IncludePathInvalidReason, tc.msg, false)
			if err := testenv.CheckCondition(obj, sourcev1.IncludeUnavailableCondition, metav1.ConditionTrue, sourcev1.IncludePathInvalidReason, tc.msg); err != nil {
				t.Error(err)
			}
			if obj.Status.Artifact != nil {
				t.Errorf("an artifact was stored: %+v", obj.Status.Artifact)
			}
		})
	}
}

// snapshot maps every path under dir to its content ("" for a directory).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			m[rel] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		m[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
