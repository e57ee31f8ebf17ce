package bootstrap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/util"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

// head returns the commit main points at in the server's repository, "" when there is none.
func head(t *testing.T, repo string) string {
	t.Helper()
	r, err := gogit.PlainOpen(filepath.Join(git.Root(), repo))
	if errors.Is(err, gogit.ErrRepositoryNotExists) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName("main"), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash().String()
}

var testAuth = &githttp.BasicAuth{Username: gitUser, Password: gitPassword}

// readRepo returns the content of path at main of repo.
func readRepo(t *testing.T, repo, path string) string {
	t.Helper()
	fs := memfs.New()
	if _, err := gogit.Clone(memory.NewStorage(), fs, &gogit.CloneOptions{URL: git.HTTPAddress() + "/" + repo, Auth: testAuth, ReferenceName: plumbing.NewBranchReferenceName("main")}); err != nil {
		t.Fatal(err)
	}
	b, err := util.ReadFile(fs, path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// allFiles returns every file at main of repo, by path.
func allFiles(t *testing.T, repo string) map[string]string {
	t.Helper()
	fs := memfs.New()
	if _, err := gogit.Clone(memory.NewStorage(), fs, &gogit.CloneOptions{URL: git.HTTPAddress() + "/" + repo, Auth: testAuth, ReferenceName: plumbing.NewBranchReferenceName("main")}); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err := util.Walk(fs, "/", func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := util.ReadFile(fs, p)
		out[strings.TrimPrefix(p, "/")] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// commit changes repo's main as a user would: edit runs on a clone, the result is committed
// and pushed. It returns the new commit.
func commit(t *testing.T, repo, message string, edit func(fs *workingCopy)) string {
	t.Helper()
	fs := memfs.New()
	r, err := gogit.Clone(memory.NewStorage(), fs, &gogit.CloneOptions{URL: git.HTTPAddress() + "/" + repo, Auth: testAuth, ReferenceName: plumbing.NewBranchReferenceName("main")})
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	edit(&workingCopy{t: t, w: w})
	h, err := w.Commit(message, &gogit.CommitOptions{Author: &object.Signature{Name: "A user", Email: "user@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Push(&gogit.PushOptions{Auth: testAuth}); err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// workingCopy edits a clone's files and stages them.
type workingCopy struct {
	t *testing.T
	w *gogit.Worktree
}

func (m *workingCopy) read(p string) string {
	b, err := util.ReadFile(m.w.Filesystem, p)
	if err != nil {
		m.t.Fatal(err)
	}
	return string(b)
}

func (m *workingCopy) write(p, content string) {
	if err := util.WriteFile(m.w.Filesystem, p, []byte(content), 0o644); err != nil {
		m.t.Fatal(err)
	}
	if _, err := m.w.Add(p); err != nil {
		m.t.Fatal(err)
	}
}

// seed creates repo with one commit of files on main.
func seed(t *testing.T, repo string, files map[string]string) string {
	t.Helper()
	fix := t.TempDir()
	for p, c := range files {
		full := filepath.Join(fix, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := git.InitRepo(fix, "main", repo); err != nil {
		t.Fatal(err)
	}
	return head(t, repo)
}
