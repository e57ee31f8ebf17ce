package bootstrap

import (
	"context"
	"io"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/gittestserver"
)

// server starts a Git server on 127.0.0.1 with basic auth for the test.
// A non-empty updateHook rejects pushes it exits non-zero for.
func server(t *testing.T, updateHook string) *gittestserver.GitServer {
	t.Helper()
	log.SetOutput(io.Discard)
	s := gittestserver.NewGitServer(t.TempDir()).AutoCreate()
	if updateHook != "" {
		s.InstallUpdateHook(updateHook)
	}
	s.Auth("bot", "pw")
	if err := s.StartHTTP(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.StopHTTP)
	return s
}

func clone(t *testing.T, s *gittestserver.GitServer, repo string) *Repo {
	t.Helper()
	u, _ := url.Parse(s.HTTPAddress() + "/" + repo)
	r, err := Clone(context.Background(), u, "main", &Credentials{Username: "bot", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRepoCommitsOnlyChanges starts an empty remote, then checks a second identical write
// commits nothing.
func TestRepoCommitsOnlyChanges(t *testing.T) {
	s := server(t, "")
	r := clone(t, s, "fleet.git")
	if !r.New {
		t.Fatal("an empty remote is not New")
	}
	if err := r.WriteFile("clusters/dev/weir-system/a.yaml", []byte("a: 1\n")); err != nil {
		t.Fatal(err)
	}
	first, changed, err := r.Commit("one", Signature{"t", "t@example.com"})
	if err != nil || !changed {
		t.Fatalf("first commit: %v, changed %v", err, changed)
	}
	if err := r.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = clone(t, s, "fleet.git")
	if r.New {
		t.Fatal("the pushed branch is New")
	}
	if err := r.WriteFile("clusters/dev/weir-system/a.yaml", []byte("a: 1\n")); err != nil {
		t.Fatal(err)
	}
	again, changed, err := r.Commit("two", Signature{"t", "t@example.com"})
	if err != nil || changed || again != first {
		t.Fatalf("an identical write: %v, changed %v, head %s want %s", err, changed, again, first)
	}
	files, err := r.Files("clusters/dev")
	if err != nil || strings.Join(files, ",") != "clusters/dev/weir-system/a.yaml" {
		t.Errorf("Files: %v, %v", files, err)
	}
}

// TestPushRejected checks a repository that takes no push is refused naming its URL.
func TestPushRejected(t *testing.T) {
	s := server(t, "#!/bin/sh\necho protected branch >&2\nexit 1\n")
	r := clone(t, s, "fleet.git")
	if err := r.WriteFile("x.yaml", []byte("x: 1\n")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Commit("x", Signature{"t", "t@example.com"}); err != nil {
		t.Fatal(err)
	}
	err := r.Push(context.Background())
	if err == nil || !strings.Contains(err.Error(), "pushing to "+s.HTTPAddress()+"/fleet.git: the server refused the push of main") {
		t.Fatalf("push: %v", err)
	}
	if strings.Contains(err.Error(), "pw") {
		t.Errorf("the error shows the password: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "fleet.git", "refs", "heads", "main")); err == nil {
		t.Error("the branch was created anyway")
	}
}
