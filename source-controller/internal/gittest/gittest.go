// Package gittest runs real Git servers on 127.0.0.1 for tests (smart HTTP, HTTPS with a
// self-signed CA, and SSH, all backed by the git CLI through fluxcd's gittestserver) and
// writes fixture history into them with go-git: commits, branches, tags, signatures.
//
// It is test support: only _test.go files import it.
package gittest

import (
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/fluxcd/pkg/gittestserver"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Server is a Git server with request counters.
type Server struct {
	*gittestserver.GitServer
	User, Password string
	// CA is the PEM CA certificate of an HTTPS server.
	CA []byte
	// Fetches counts git-upload-pack POSTs: each clone or fetch makes at least one; an
	// ls-remote makes none.
	Fetches atomic.Int64
	// RefListings counts info/refs requests: every ls-remote, clone or fetch makes one.
	RefListings atomic.Int64

	authMu sync.Mutex
	auths  []string // the Authorization header of every request, "" when absent

	bearer string
}

// Options for NewServer.
type Options struct {
	User, Password string // basic auth when set
	BearerToken    string // when set, every request must carry it as a bearer token
	TLS            bool
	SSH            bool
}

// NewServer starts a server for the test; it stops when the test ends.
func NewServer(t testing.TB, o Options) *Server {
	t.Helper()
	// gitkit logs every request through the standard logger.
	log.SetOutput(io.Discard)
	gs, err := gittestserver.NewTempGitServer()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{GitServer: gs.AutoCreate(), User: o.User, Password: o.Password, bearer: o.BearerToken}
	t.Cleanup(func() { os.RemoveAll(gs.Root()) })
	if o.User != "" {
		gs.Auth(o.User, o.Password)
	}
	gs.AddHTTPMiddlewares(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o.BearerToken != "" && r.Header.Get("Authorization") != "Bearer "+o.BearerToken {
				w.Header().Set("WWW-Authenticate", `Bearer realm="git"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			s.authMu.Lock()
			s.auths = append(s.auths, r.Header.Get("Authorization"))
			s.authMu.Unlock()
			switch {
			case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
				s.Fetches.Add(1)
			case strings.HasSuffix(r.URL.Path, "/info/refs"):
				s.RefListings.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	if o.TLS {
		ca, cert, key := SelfSignedTLS(t)
		s.CA = ca
		if err := gs.StartHTTPS(cert, key, ca, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	} else if err := gs.StartHTTP(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gs.StopHTTP)
	if o.SSH {
		gs.KeyDir(filepath.Join(gs.Root(), "..", filepath.Base(gs.Root())+"-keys"))
		if err := gs.ListenSSH(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = gs.StartSSH() }()
		t.Cleanup(func() { _ = gs.StopSSH() })
	}
	return s
}

// Authorizations returns the Authorization header of every HTTP request received so far, in
// order; "" stands for a request without one.
func (s *Server) Authorizations() []string {
	s.authMu.Lock()
	defer s.authMu.Unlock()
	return append([]string(nil), s.auths...)
}

// URL is the HTTP(S) URL of the repository at path, without credentials.
func (s *Server) URL(path string) string { return s.HTTPAddress() + "/" + path }

// KnownHosts returns a known_hosts line for the SSH server's host key.
func (s *Server) KnownHosts(t testing.TB) []byte {
	t.Helper()
	addr := strings.TrimPrefix(s.SSHAddress(), "ssh://git@")
	matches, _ := filepath.Glob(filepath.Join(s.Root(), "..", filepath.Base(s.Root())+"-keys", "*.pub"))
	if len(matches) != 1 {
		t.Fatalf("no SSH host public key found")
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, pub) + "\n")
}

// Repo is a working copy whose history is pushed to a server repository.
type Repo struct {
	t      testing.TB
	Git    *gogit.Repository
	dir    string
	server *Server
}

// NewRepo creates the repository path on s with a first commit of files on branch, pushed.
func (s *Server) NewRepo(t testing.TB, path, branch string, files map[string]string) *Repo {
	t.Helper()
	dir := t.TempDir()
	g, err := gogit.PlainInitWithOptions(dir, &gogit.PlainInitOptions{
		InitOptions: gogit.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{s.URL(path)}}); err != nil {
		t.Fatal(err)
	}
	r := &Repo{t: t, Git: g, dir: dir, server: s}
	r.Commit(files, "initial commit", nil)
	r.Push()
	// The server's HEAD names the default branch (git init defaults differ by version).
	head := filepath.Join(s.Root(), path, "HEAD")
	if err := os.WriteFile(head, []byte("ref: refs/heads/"+branch+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// Commit writes files (a path mapped to "" is deleted) and commits them, signed when key is
// set. It returns the commit hash. Symlinks: a value starting with "symlink:" creates one.
func (r *Repo) Commit(files map[string]string, message string, key *openpgp.Entity) string {
	r.t.Helper()
	return r.commit(files, &gogit.CommitOptions{Author: signature(), SignKey: key, AllowEmptyCommits: true}, message)
}

// CommitSigned is Commit signed by signer (an SSHSigner, for instance).
func (r *Repo) CommitSigned(files map[string]string, message string, signer gogit.Signer) string {
	r.t.Helper()
	return r.commit(files, &gogit.CommitOptions{Author: signature(), Signer: signer, AllowEmptyCommits: true}, message)
}

func (r *Repo) commit(files map[string]string, opts *gogit.CommitOptions, message string) string {
	r.t.Helper()
	wt, err := r.Git.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(r.dir, filepath.FromSlash(name))
		if content == "" {
			if err := os.Remove(p); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "symlink:"); ok {
			_ = os.Remove(p)
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			r.t.Fatal(err)
		}
	}
	// One pass over the tree: adding file by file rewrites the index each time.
	if err := wt.AddWithOptions(&gogit.AddOptions{All: true}); err != nil {
		r.t.Fatal(err)
	}
	h, err := wt.Commit(message, opts)
	if err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}

// Branch creates and checks out a new branch at HEAD.
func (r *Repo) Branch(name string) {
	r.t.Helper()
	wt, err := r.Git.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := wt.Checkout(&gogit.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name), Create: true}); err != nil {
		r.t.Fatal(err)
	}
}

// Tag tags HEAD: annotated (and signed when key is set) or lightweight.
func (r *Repo) Tag(name string, annotated bool, key *openpgp.Entity) {
	r.t.Helper()
	head, err := r.Git.Head()
	if err != nil {
		r.t.Fatal(err)
	}
	var opts *gogit.CreateTagOptions
	if annotated {
		opts = &gogit.CreateTagOptions{Tagger: signature(), Message: "release " + name, SignKey: key}
	}
	if _, err := r.Git.CreateTag(name, head.Hash(), opts); err != nil {
		r.t.Fatal(err)
	}
}

// Push pushes every branch and tag, forcing.
func (r *Repo) Push() {
	r.t.Helper()
	var auth transport.AuthMethod
	switch {
	case r.server.bearer != "":
		auth = &githttp.TokenAuth{Token: r.server.bearer}
	case r.server.User != "":
		auth = &githttp.BasicAuth{Username: r.server.User, Password: r.server.Password}
	}
	err := r.Git.Push(&gogit.PushOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"},
		Auth:       auth,
		CABundle:   r.server.CA,
	})
	if err != nil && err != gogit.NoErrAlreadyUpToDate {
		r.t.Fatal(err)
	}
}

// Dir is the working copy's directory.
func (r *Repo) Dir() string { return r.dir }

func signature() *object.Signature {
	return &object.Signature{Name: "Weir Test", Email: "test@weir.dev", When: time.Unix(1_700_000_000, 0)}
}

// SetSubmodule records a submodule at path with the given .gitmodules URL, pinned to commit,
// and commits it (with the git CLI: go-git cannot stage a gitlink).
func (r *Repo) SetSubmodule(path, url, commit string) {
	r.t.Helper()
	gitmodules := "[submodule \"" + path + "\"]\n\tpath = " + path + "\n\turl = " + url + "\n"
	if err := os.WriteFile(filepath.Join(r.dir, ".gitmodules"), []byte(gitmodules), 0o644); err != nil {
		r.t.Fatal(err)
	}
	for _, args := range [][]string{
		{"update-index", "--add", "--cacheinfo", "160000," + commit + "," + path},
		{"add", ".gitmodules"},
		{"-c", "user.name=Weir Test", "-c", "user.email=test@weir.dev", "commit", "-q", "-m", "submodule " + path},
	} {
		cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			r.t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// Head returns the hash of the server repository's HEAD commit at path.
func (s *Server) Head(t testing.TB, path string) string {
	t.Helper()
	g, err := gogit.PlainOpen(filepath.Join(s.Root(), path))
	if err != nil {
		t.Fatal(err)
	}
	h, err := g.Head()
	if err != nil {
		t.Fatal(err)
	}
	return h.Hash().String()
}
