package git

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Options shape a checkout.
type Options struct {
	// Proxy, when its URL is set, is the HTTP(S) proxy to reach the remote through.
	Proxy transport.ProxyOptions
	// SparseCheckout lists the only directories to check out; all when empty.
	SparseCheckout []string
	// RecurseSubmodules also checks out submodules whose URLs are http(s) or ssh.
	RecurseSubmodules bool
}

// maxSubmoduleDepth bounds nested submodules.
const maxSubmoduleDepth = 5

// Checkout fetches exactly t into a new repository at dir (shallow unless a pinned commit needs
// history) and checks it out. It returns the repository and the commit checked out; the remote
// may have moved since Resolve, in which case t's commit is updated to what was fetched.
func Checkout(ctx context.Context, dir string, u *url.URL, auth *Auth, opts Options, t *Target, pinned bool) (*gogit.Repository, *object.Commit, error) {
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		return nil, nil, err
	}
	commit, err := fetch(ctx, repo, u, auth, opts, t, pinned)
	if err != nil {
		return nil, nil, err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, nil, err
	}
	co := &gogit.CheckoutOptions{Hash: commit.Hash, Force: true, SparseCheckoutDirectories: opts.SparseCheckout}
	if err := wt.Checkout(co); err != nil {
		return nil, nil, fmt.Errorf("checking out %s: %w", t.Commit, err)
	}
	if opts.RecurseSubmodules {
		if err := updateSubmodules(ctx, wt, u, u, auth, 1); err != nil {
			return nil, nil, err
		}
	}
	return repo, commit, nil
}

// Fetch fetches exactly t, as Checkout does, into a new bare repository at dir, without a
// worktree: write the commit's tree elsewhere with a Mirror.
func Fetch(ctx context.Context, dir string, u *url.URL, auth *Auth, opts Options, t *Target, pinned bool) (*gogit.Repository, *object.Commit, error) {
	repo, err := gogit.PlainInit(dir, true)
	if err != nil {
		return nil, nil, err
	}
	commit, err := fetch(ctx, repo, u, auth, opts, t, pinned)
	if err != nil {
		return nil, nil, err
	}
	return repo, commit, nil
}

// fetch fetches t into repo and returns its commit.
func fetch(ctx context.Context, repo *gogit.Repository, u *url.URL, auth *Auth, opts Options, t *Target, pinned bool) (*object.Commit, error) {
	method, err := auth.method(u)
	if err != nil {
		return nil, err
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{u.String()}}); err != nil {
		return nil, err
	}
	fo := &gogit.FetchOptions{RemoteName: "origin", Auth: method, Tags: gogit.NoTags, ProxyOptions: opts.Proxy, Depth: 1}
	if auth != nil {
		fo.CABundle, fo.ClientCert, fo.ClientKey = auth.CABundle, auth.ClientCert, auth.ClientKey
	}
	switch {
	case pinned && t.RefName != "":
		fo.Depth = 0
		fo.RefSpecs = []config.RefSpec{config.RefSpec(fmt.Sprintf("+%s:%s", t.RefName, t.RefName))}
	case pinned:
		fo.Depth = 0
		fo.RefSpecs = []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*"}
	default:
		fo.RefSpecs = []config.RefSpec{config.RefSpec(fmt.Sprintf("+%s:%s", t.RefName, t.RefName))}
	}
	if err := repo.FetchContext(ctx, fo); err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil, classify(u, err)
	}

	if !pinned {
		ref, err := repo.Reference(t.RefName, true)
		if err != nil {
			return nil, fmt.Errorf("%w: %s", ErrReferenceNotFound, t.RefName)
		}
		t.Commit, t.TagObject = ref.Hash().String(), ""
		if tag, err := repo.TagObject(ref.Hash()); err == nil {
			t.TagObject = tag.Hash.String()
			t.Commit = tag.Target.String()
		}
	}
	commit, err := repo.CommitObject(plumbing.NewHash(t.Commit))
	if err != nil {
		if t.Short != "" {
			return nil, fmt.Errorf("%w: commit %s in %s", ErrReferenceNotFound, t.Commit, t.Short)
		}
		return nil, fmt.Errorf("%w: commit %s", ErrReferenceNotFound, t.Commit)
	}
	return commit, nil
}

// updateSubmodules checks out the submodules of wt, refusing any whose URL is not http(s) or
// ssh (a local path or file:// URL would read the controller's own filesystem). parent is the
// URL of wt's repository, against which relative submodule URLs resolve; origin is spec.url:
// auth is sent only to submodules on origin's scheme, host and port, at any depth, and the
// others are fetched anonymously.
func updateSubmodules(ctx context.Context, wt *gogit.Worktree, origin, parent *url.URL, auth *Auth, depth int) error {
	if depth > maxSubmoduleDepth {
		return fmt.Errorf("submodules nested deeper than %d", maxSubmoduleDepth)
	}
	subs, err := wt.Submodules()
	if err != nil {
		return fmt.Errorf("reading .gitmodules: %w", err)
	}
	for _, s := range subs {
		cfg := s.Config()
		resolved, err := submoduleURL(parent, cfg.URL)
		if err != nil {
			return fmt.Errorf("submodule %q: %w", cfg.Path, err)
		}
		cfg.URL = resolved.String()
		method, err := submoduleAuth(origin, resolved, auth)
		if err != nil {
			return fmt.Errorf("submodule %q: %w", cfg.Path, err)
		}
		if err := s.UpdateContext(ctx, &gogit.SubmoduleUpdateOptions{Init: true, Auth: method}); err != nil {
			err = classify(resolved, err)
			if auth != nil && method == nil && errors.Is(err, ErrAuthentication) {
				err = fmt.Errorf("%w: spec.secretRef's credentials are sent only to %s, the host of spec.url", err, originOf(origin))
			}
			return fmt.Errorf("submodule %q: %w", cfg.Path, err)
		}
		subRepo, err := s.Repository()
		if err != nil {
			return fmt.Errorf("submodule %q: %w", cfg.Path, err)
		}
		subWT, err := subRepo.Worktree()
		if err != nil {
			return err
		}
		if err := updateSubmodules(ctx, subWT, origin, resolved, auth, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// submoduleAuth returns auth's method for a submodule at u: nil (anonymous) unless u is on
// origin's scheme, host and port. An ssh submodule elsewhere is refused: ssh has no anonymous
// access, and the key is origin's.
func submoduleAuth(origin, u *url.URL, auth *Auth) (transport.AuthMethod, error) {
	if sameOrigin(origin, u) {
		return auth.method(u)
	}
	if u.Scheme == "ssh" {
		return nil, fmt.Errorf("ssh URL %s is not on %s, the host of spec.url, and credentials go only there", redact(u.String()), originOf(origin))
	}
	return nil, nil
}

// sameOrigin reports whether a and b have the same scheme, host and port (the scheme's
// default port when none is given).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return map[string]string{"http": "80", "https": "443", "ssh": "22"}[strings.ToLower(u.Scheme)]
}

// originOf is u's scheme://host[:port], for messages.
func originOf(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}

// submoduleURL resolves a submodule URL (possibly relative to the parent's) and allows only
// http, https and ssh.
func submoduleURL(parent *url.URL, raw string) (*url.URL, error) {
	if strings.HasPrefix(raw, "./") || strings.HasPrefix(raw, "../") {
		u := *parent
		u.Path = path.Join(parent.Path, raw)
		return &u, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("URL %q is not an http(s) or ssh URL", redact(raw))
	}
	switch u.Scheme {
	case "http", "https", "ssh":
	case "":
		return nil, fmt.Errorf("URL %q is not an http(s) or ssh URL", redact(raw))
	default:
		return nil, fmt.Errorf("URL scheme %q is not allowed: only http, https and ssh", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", redact(raw))
	}
	return u, nil
}

// ErrAuthentication is returned when the remote rejected or required credentials.
var ErrAuthentication = errors.New("authentication failed")

// ErrRepositoryNotFound is returned when the remote has no such repository.
var ErrRepositoryNotFound = errors.New("repository not found")

// classify maps go-git's transport errors to ours and strips the URL's credentials from
// anything else.
func classify(u *url.URL, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("timed out talking to %s", redact(u.String()))
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("%w for %s", ErrAuthentication, redact(u.String()))
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%w: %s", ErrRepositoryNotFound, redact(u.String()))
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return fmt.Errorf("%w: the remote repository %s is empty", ErrReferenceNotFound, redact(u.String()))
	}
	msg := err.Error()
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "***")
	}
	if strings.Contains(msg, "unable to authenticate") || strings.Contains(msg, "handshake failed") {
		return fmt.Errorf("%w for %s: %s", ErrAuthentication, redact(u.String()), msg)
	}
	return fmt.Errorf("%s: %s", redact(u.String()), msg)
}

// redact returns raw without a password in its userinfo.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}
