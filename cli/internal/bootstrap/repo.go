package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/util"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// maxFileSize bounds each file Repo reads from the clone.
const maxFileSize = 16 << 20

// Repo is an in-memory clone of one branch of a repository, to write and push.
type Repo struct {
	// URL is the repository's URL without credentials, for messages.
	URL    string
	Branch string
	// New is true when the remote had no such branch (or no commits at all): the first
	// commit starts it.
	New bool

	u    *url.URL
	repo *gogit.Repository
	fs   billy.Filesystem
	auth transport.AuthMethod
}

// Clone clones branch of u with creds, or starts the branch when the remote is empty or lacks
// it. Errors name the URL, never a credential.
func Clone(ctx context.Context, u *url.URL, branch string, creds *Credentials) (*Repo, error) {
	auth, err := creds.method(u)
	if err != nil {
		return nil, err
	}
	r := &Repo{URL: Redact(u), Branch: branch, u: u, fs: memfs.New(), auth: auth}
	ref := plumbing.NewBranchReferenceName(branch)
	r.repo, err = gogit.CloneContext(ctx, memory.NewStorage(), r.fs, &gogit.CloneOptions{
		URL: u.String(), Auth: auth, ReferenceName: ref, SingleBranch: true, Tags: gogit.NoTags,
	})
	switch {
	case err == nil:
		return r, nil
	case errors.Is(err, transport.ErrEmptyRemoteRepository), errors.Is(err, gogit.NoMatchingRefSpecError{}):
		return r, r.start(ref)
	default:
		return nil, r.remoteError("cloning", err)
	}
}

// start makes an empty repository whose HEAD is the branch ref, with u as origin.
func (r *Repo) start(ref plumbing.ReferenceName) error {
	r.fs = memfs.New()
	repo, err := gogit.Init(memory.NewStorage(), r.fs)
	if err != nil {
		return err
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{r.u.String()}}); err != nil {
		return err
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, ref)); err != nil {
		return err
	}
	r.repo, r.New = repo, true
	return nil
}

// remoteError says what failed against the remote, naming its URL and, for the usual
// causes, what to do.
func (r *Repo) remoteError(what string, err error) error {
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired):
		return fmt.Errorf("%s %s: %s: check --username and --password-file (or $%s)", what, r.URL, transport.ErrAuthenticationRequired, PasswordEnv)
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("%s %s: %s: the credentials may not do that", what, r.URL, transport.ErrAuthorizationFailed)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%s %s: %w (or your credentials may not see it)", what, r.URL, err)
	}
	return fmt.Errorf("%s %s: %w", what, r.URL, err)
}

// Files lists the regular files under dir (slash-separated, relative to the repository's
// root), sorted. A missing dir has none.
func (r *Repo) Files(dir string) ([]string, error) {
	var out []string
	err := util.Walk(r.fs, dir, func(p string, fi fs.FileInfo, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && p == dir {
				return filepath.SkipDir
			}
			return err
		}
		if fi.Mode().IsRegular() {
			out = append(out, filepath.ToSlash(p))
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// ReadFile returns the content of the regular file p, or ok false when there is none.
func (r *Repo) ReadFile(p string) (b []byte, ok bool, err error) {
	fi, err := r.fs.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, false, fmt.Errorf("%s is not a regular file", p)
	}
	if fi.Size() > maxFileSize {
		return nil, false, fmt.Errorf("%s is larger than %d MiB", p, maxFileSize>>20)
	}
	f, err := r.fs.Open(p)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	b, err = io.ReadAll(io.LimitReader(f, maxFileSize))
	return b, err == nil, err
}

// WriteFile writes b to p, creating its directories, and stages it.
func (r *Repo) WriteFile(p string, b []byte) error {
	if err := r.fs.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	if err := util.WriteFile(r.fs, p, b, 0o644); err != nil {
		return err
	}
	w, err := r.repo.Worktree()
	if err != nil {
		return err
	}
	_, err = w.Add(p)
	return err
}

// Signature is a commit's author.
type Signature struct{ Name, Email string }

// Commit commits what WriteFile staged, when that changed anything, and returns the head
// commit's hash and whether it made a new one.
func (r *Repo) Commit(message string, author Signature) (string, bool, error) {
	w, err := r.repo.Worktree()
	if err != nil {
		return "", false, err
	}
	st, err := w.Status()
	if err != nil {
		return "", false, err
	}
	if st.IsClean() && !r.New {
		head, err := r.repo.Head()
		if err != nil {
			return "", false, err
		}
		return head.Hash().String(), false, nil
	}
	h, err := w.Commit(message, &gogit.CommitOptions{Author: &object.Signature{Name: author.Name, Email: author.Email, When: time.Now()}})
	if err != nil {
		return "", false, err
	}
	r.New = false
	return h.String(), true, nil
}

// Push pushes the branch. A rejection (the branch moved meanwhile, or no right to push) is
// an error naming the URL.
func (r *Repo) Push(ctx context.Context) error {
	ref := plumbing.NewBranchReferenceName(r.Branch)
	err := r.repo.PushContext(ctx, &gogit.PushOptions{
		RemoteName: "origin", Auth: r.auth,
		RefSpecs: []config.RefSpec{config.RefSpec(ref + ":" + ref)},
	})
	if err == nil || errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil
	}
	if strings.Contains(err.Error(), "non-fast-forward") {
		return fmt.Errorf("pushing to %s: the branch %s moved while weir was writing it: run again: %w", r.URL, r.Branch, err)
	}
	if errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) {
		return r.remoteError("pushing to", err)
	}
	// go-git reports a push a server hook or branch protection refused as a protocol error.
	return fmt.Errorf("pushing to %s: the server refused the push of %s: do the credentials have write access, is the branch protected? (%w)", r.URL, r.Branch, err)
}
