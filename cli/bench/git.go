package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"path/filepath"
	"strings"
	"time"

	"weir.dev/cli/internal/local"
)

// configMapsPerApp is the number of ConfigMaps cm-00 … cm-09 in each app folder.
const configMapsPerApp = 10

// gitServer serves one bare repository over smart HTTP with `git http-backend` on 127.0.0.1,
// and keeps a working copy of it to commit and push from.
type gitServer struct {
	// URL is the repository's clone URL.
	URL string
	// work is the working copy.
	work string
	srv  *http.Server
}

// startGitServer creates, under dir, the bare repository fleet.git holding the fleet of n apps
// on branch main and starts serving it. It returns the server and the revision
// source-controller gives the first commit (main@sha1:<hash>).
func startGitServer(ctx context.Context, dir string, n int) (*gitServer, string, error) {
	execPath, err := git(ctx, "", "--exec-path")
	if err != nil {
		return nil, "", fmt.Errorf("the benchmark needs the git command: %w", err)
	}
	root := filepath.Join(dir, "git")
	bare := filepath.Join(root, "fleet.git")
	work := filepath.Join(dir, "work")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	s := &gitServer{URL: "http://" + l.Addr().String() + "/fleet.git", work: work}
	s.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1"},
	}}
	go func() {
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "git server:", err)
		}
	}()
	for _, args := range [][]string{
		{"init", "--quiet", "--bare", "--initial-branch=main", bare},
		// http-backend only takes pushes from an authenticated user unless told otherwise.
		{"-C", bare, "config", "http.receivepack", "true"},
		{"init", "--quiet", "--initial-branch=main", work},
		{"-C", work, "remote", "add", "origin", s.URL},
	} {
		if _, err := git(ctx, "", args...); err != nil {
			s.close()
			return nil, "", err
		}
	}
	for i := range n {
		if err := writeApp(work, i); err != nil {
			s.close()
			return nil, "", err
		}
	}
	rev, err := s.commitAndPush(ctx, fmt.Sprintf("%d apps of %d ConfigMaps", n, configMapsPerApp))
	if err != nil {
		s.close()
		return nil, "", err
	}
	return s, rev, nil
}

func (s *gitServer) close() { _ = s.srv.Close() }

// commitAndPush commits every change of the working copy, pushes it to main and returns the
// new revision as source-controller names it.
func (s *gitServer) commitAndPush(ctx context.Context, message string) (string, error) {
	for _, args := range [][]string{
		{"add", "--all"},
		{"commit", "--quiet", "--message", message},
		// git sends a pack larger than http.postBuffer (1 MiB) chunked, without a length, which
		// http-backend behind net/http/cgi rejects (HTTP 400): the first push of 500 apps is larger.
		{"-c", "http.postBuffer=1073741824", "push", "--quiet", "origin", "main"},
	} {
		if _, err := git(ctx, s.work, args...); err != nil {
			return "", err
		}
	}
	head, err := git(ctx, s.work, "rev-parse", "HEAD")
	if err != nil {
		return "", err
	}
	return "main@sha1:" + head, nil
}

// setRev rewrites ConfigMap cm of app i with data.rev set to rev.
func (s *gitServer) setRev(app, cm int, rev string) error {
	return os.WriteFile(filepath.Join(s.work, configMapPath(app, cm)), []byte(configMapYAML(app, cm, rev)), 0o644)
}

// dropConfigMaps removes ConfigMaps from … configMapsPerApp-1 of each of the n apps, files and
// kustomization.yaml entries.
func (s *gitServer) dropConfigMaps(n, from int) error {
	for i := range n {
		for j := from; j < configMapsPerApp; j++ {
			if err := os.Remove(filepath.Join(s.work, configMapPath(i, j))); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(s.work, "apps", appName(i), "kustomization.yaml"), []byte(kustomizationYAML(from)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func appName(i int) string { return fmt.Sprintf("app-%03d", i) }
func nsName(i int) string  { return fmt.Sprintf("ns-%03d", i) }
func cmName(j int) string  { return fmt.Sprintf("cm-%02d", j) }

func configMapPath(app, cm int) string {
	return filepath.Join("apps", appName(app), cmName(cm)+".yaml")
}

// writeApp writes app folder i: its ConfigMaps at rev "0" and their kustomization.yaml.
func writeApp(work string, i int) error {
	dir := filepath.Join(work, "apps", appName(i))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for j := range configMapsPerApp {
		if err := os.WriteFile(filepath.Join(work, configMapPath(i, j)), []byte(configMapYAML(i, j, "0")), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomizationYAML(configMapsPerApp)), 0o644)
}

// kustomizationYAML lists ConfigMaps cm-00 … cm-(count-1).
func kustomizationYAML(count int) string {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for j := range count {
		fmt.Fprintf(&b, "  - %s.yaml\n", cmName(j))
	}
	return b.String()
}

// configMapYAML is ConfigMap cm of app i: data.rev and a payload of 16 lines of 64 bytes
// (1 KiB with their newlines), distinct per app and ConfigMap.
func configMapYAML(i, cm int, rev string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  rev: %q\n  payload: |\n", cmName(cm), rev)
	for line := range 16 {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", appName(i), cmName(cm), line))
		// 63 characters and a newline: 64 bytes a line.
		fmt.Fprintf(&b, "    %s\n", hex.EncodeToString(sum[:])[:63])
	}
	return b.String()
}

// git runs git in dir as the local mode's demo does (no user or system configuration), and
// returns its trimmed output.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	return local.RunGit(ctx, dir, args...)
}
