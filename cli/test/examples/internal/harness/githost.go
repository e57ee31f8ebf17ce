package harness

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weir.dev/cli/internal/local"
)

// Placeholder is how the examples name the user's Git host and organisation: every URL of a
// repository (GitRepository.spec.url, a github Provider's address) starts with it, and a user
// replaces it with their own, e.g. https://github.com/my-org/.
const Placeholder = "https://github.com/acme/"

// GitHost stands in for a GitHub Enterprise server on 127.0.0.1: repositories at
// <URL>/<owner>/<repo> over smart HTTP (git http-backend, no authentication), and the REST API
// under <URL>/api/v3/, where notification-controller's github provider sends commit statuses
// for any host but github.com.
type GitHost struct {
	// URL is http://127.0.0.1:<port>.
	URL  string
	root string
}

// StartGitHost starts a Git host serving api (nil: 404) under /api/v3/; it stops with t.
func StartGitHost(t *testing.T, api http.Handler) *GitHost {
	t.Helper()
	h := &GitHost{root: t.TempDir()}
	git, err := local.GitHTTPHandler(h.root)
	if err != nil {
		t.Fatal(err)
	}
	if api == nil {
		api = http.NotFoundHandler()
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v3/", api)
	mux.Handle("/", git)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	h.URL = "http://" + l.Addr().String()
	return h
}

// OrgURL is what Placeholder becomes on this host: <URL>/acme/.
func (h *GitHost) OrgURL() string { return h.URL + "/acme/" }

// Repo is a repository on a GitHost and a working copy of it.
type Repo struct {
	// URL is the repository's URL on the host, <URL>/acme/<name>.
	URL string
	// Dir is the working copy.
	Dir string
}

// Publish creates the repository acme/<name> with one commit on main holding the files of src
// (an example directory), with Placeholder and each key of replace rewritten (to OrgURL and to
// the value), as a user commits an example after putting in their own URLs.
func (h *GitHost) Publish(t *testing.T, name, src string, replace map[string]string) *Repo {
	t.Helper()
	ctx := context.Background()
	r := &Repo{URL: h.OrgURL() + name, Dir: filepath.Join(t.TempDir(), name)}
	// A bare directory without the .git suffix, so that the URL has none either, as on GitHub.
	bare := filepath.Join(h.root, "acme", name)
	pairs := []string{Placeholder, h.OrgURL()}
	for k, v := range replace {
		pairs = append(pairs, k, v)
	}
	rewrite := strings.NewReplacer(pairs...)
	for _, args := range [][]string{
		{"init", "--quiet", "--bare", "--initial-branch=main", bare},
		{"-C", bare, "config", "http.receivepack", "true"},
		{"init", "--quiet", "--initial-branch=main", r.Dir},
	} {
		gitRun(t, ctx, "", args...)
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r.Write(t, filepath.ToSlash(rel), rewrite.Replace(string(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.git(t, "add", "--all")
	r.git(t, "commit", "--quiet", "--message", "The "+name+" example")
	r.git(t, "remote", "add", "origin", r.URL)
	r.git(t, "push", "--quiet", "origin", "main")
	return r
}

// Write writes content to path (slash-separated) in the working copy.
func (r *Repo) Write(t *testing.T, path, content string) {
	t.Helper()
	full := filepath.Join(r.Dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Read returns the content of path (slash-separated) in the working copy.
func (r *Repo) Read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Dir, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// CommitAndPush commits every change of the working copy, pushes main and returns the commit's
// hash.
func (r *Repo) CommitAndPush(t *testing.T, message string) string {
	t.Helper()
	r.git(t, "add", "--all")
	r.git(t, "commit", "--quiet", "--message", message)
	r.git(t, "push", "--quiet", "origin", "main")
	return r.Head(t)
}

// Head returns the hash of the working copy's HEAD.
func (r *Repo) Head(t *testing.T) string {
	t.Helper()
	return r.git(t, "rev-parse", "HEAD")
}

func (r *Repo) git(t *testing.T, args ...string) string {
	t.Helper()
	return gitRun(t, context.Background(), r.Dir, args...)
}

func gitRun(t *testing.T, ctx context.Context, dir string, args ...string) string {
	t.Helper()
	out, err := local.RunGit(ctx, dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
