package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// gitServer serves the bare repositories under root over smart HTTP with `git http-backend`,
// on 127.0.0.1, without authentication: anyone on this machine may clone and push.
type gitServer struct {
	root string
	url  string
	srv  *http.Server
}

func startGitServer(root string) (*gitServer, error) {
	backend, err := GitHTTPHandler(root)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &gitServer{root: root, url: "http://" + l.Addr().String(), srv: &http.Server{Handler: backend}}
	go func() {
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "git server:", err)
		}
	}()
	return s, nil
}

// createRepo creates the bare repository name.git with one commit of files on main, pushed
// from a working copy in work, and returns its URL and the revision source-controller gives
// that commit (main@sha1:<hash>).
func (s *gitServer) createRepo(ctx context.Context, name, work string, files map[string]string) (url, revision string, err error) {
	bare := filepath.Join(s.root, name+".git")
	url = s.url + "/" + name + ".git"
	steps := [][]string{
		{"init", "--quiet", "--bare", "--initial-branch=main", bare},
		// http-backend only takes pushes from an authenticated user unless told otherwise.
		{"-C", bare, "config", "http.receivepack", "true"},
		{"init", "--quiet", "--initial-branch=main", work},
	}
	for _, args := range steps {
		if _, err := runGit(ctx, "", args...); err != nil {
			return "", "", err
		}
	}
	for p, content := range files {
		full := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", "", err
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return "", "", err
		}
	}
	for _, args := range [][]string{
		{"add", "--all"},
		{"commit", "--quiet", "--message", "The Weir demo app"},
		{"remote", "add", "origin", url},
		{"push", "--quiet", "origin", "main"},
	} {
		if _, err := runGit(ctx, work, args...); err != nil {
			return "", "", err
		}
	}
	head, err := runGit(ctx, work, "rev-parse", "HEAD")
	if err != nil {
		return "", "", err
	}
	return url, "main@sha1:" + head, nil
}

// GitHTTPHandler serves the bare repositories under root (created if missing) over smart HTTP
// with `git http-backend`, without authentication; a repository takes pushes once its
// http.receivepack is true. It is the demo's Git server, for tests that put it behind an
// address of their own.
func GitHTTPHandler(root string) (http.Handler, error) {
	execPath, err := runGit(context.Background(), "", "--exec-path")
	if err != nil {
		return nil, fmt.Errorf("the demo needs the git command: %w", err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1"},
	}, nil
}

func (s *gitServer) close() { _ = s.srv.Close() }

// runGit runs git in dir with no user or system configuration and the demo's identity, and
// returns its trimmed output.
func runGit(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Weir demo", "GIT_AUTHOR_EMAIL=demo@weir.dev",
		"GIT_COMMITTER_NAME=Weir demo", "GIT_COMMITTER_EMAIL=demo@weir.dev",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
