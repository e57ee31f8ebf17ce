package git_test

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"weir.dev/source-controller/internal/git"
	"weir.dev/source-controller/internal/gittest"
)

// snapshot is every entry under dir but .git: file contents, link targets, directories.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".git":
			return filepath.SkipDir
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[rel] = "symlink:" + target
			return err
		case d.IsDir():
			out[rel+"/"] = ""
		default:
			b, err := os.ReadFile(p)
			out[rel] = string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMirrorMatchesCheckout: after each push, a Mirror written commit after commit holds
// exactly what a fresh checkout holds, rewriting only what changed, and never writes outside
// its directory, even where a symbolic link pointing out was replaced by a directory.
func TestMirrorMatchesCheckout(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := gittest.NewServer(t, gittest.Options{})
	repo := srv.NewRepo(t, "org/app.git", "main", map[string]string{
		"apps/a.yaml":      "a1",
		"apps/b.yaml":      "b1",
		"infra/old/x.yaml": "x",
		"keep.txt":         "same",
		"link":             "symlink:keep.txt",
		"escape":           "symlink:../outside",
	})
	u := mustURL(t, srv.URL("org/app.git"))
	m := &git.Mirror{Dir: filepath.Join(base, "mirror")}

	write := func(sparse []string) {
		t.Helper()
		target, err := git.Resolve(ctx(t), u, nil, git.Options{}, git.Reference{})
		if err != nil {
			t.Fatal(err)
		}
		_, commit, err := git.Fetch(ctx(t), t.TempDir(), u, nil, git.Options{}, &target, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Write(commit, sparse); err != nil {
			t.Fatal(err)
		}
		fresh := t.TempDir()
		if _, _, err := git.Checkout(ctx(t), fresh, u, nil, git.Options{SparseCheckout: sparse}, &target, false); err != nil {
			t.Fatal(err)
		}
		got, want := snapshot(t, m.Dir), snapshot(t, fresh)
		if !maps.Equal(got, want) {
			t.Fatalf("mirror %v\nfresh checkout %v", got, want)
		}
	}
	write(nil)
	keep, err := os.Stat(filepath.Join(m.Dir, "keep.txt"))
	if err != nil {
		t.Fatal(err)
	}

	// A changed file, a removed one (its directory goes too), a symlink made a directory.
	repo.Commit(map[string]string{"apps/a.yaml": "a2", "infra/old/x.yaml": "", "escape": "", "link": ""}, "change", nil)
	repo.Commit(map[string]string{"escape/passwd": "inside", "link/c.yaml": "c", "new/n.yaml": "n"}, "dirs", nil)
	repo.Push()
	write(nil)
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("the mirror wrote through a symbolic link outside its directory: %v", entries)
	}
	if again, err := os.Stat(filepath.Join(m.Dir, "keep.txt")); err != nil || !os.SameFile(keep, again) || !again.ModTime().Equal(keep.ModTime()) {
		t.Error("an unchanged file was rewritten")
	}
	if m.Len() != 6 {
		t.Errorf("the mirror tracks %d files, want 6", m.Len())
	}

	// A sparse checkout leaves everything else out.
	write([]string{"apps"})
}
