package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/util"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
)

// gitSpec is a Git base as kustomize writes it: the repository, the reference, the directory.
type gitSpec struct {
	url  string // scheme://host/repository, no user information
	host string
	ref  string // branch, tag or full commit hash; empty for the remote's HEAD
	dir  string // the kustomization's directory in the repository, "." for its root
	// marked says the URL can only mean a Git base: it has a ref or version, or marks where
	// the repository ends ("//", ".git", "_git/").
	marked bool
}

// errBadRef is returned for a ?ref= or ?version= value that is not a plain reference name.
var errBadRef = errors.New("invalid ref")

// refName is what a ref or version may be: no leading '-', no option, no revision syntax.
var refName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$`)

func validRef(ref string) bool {
	return refName.MatchString(ref) && !strings.Contains(ref, "..") && !strings.Contains(ref, "//") &&
		!strings.HasSuffix(ref, "/") && !strings.HasSuffix(ref, ".lock")
}

// commitHash matches a full commit hash.
var commitHash = regexp.MustCompile(`^[0-9a-f]{40}$`)

// parseGit reads a Git base the way kustomize's URL parser splits it (the "_git/", "//" and
// ".git" markers, else two path segments), for http(s) and github.com/ shorthands only: file://
// would read the machine's own files, and ssh has no credentials here. Every ref and version
// value must be a plain reference name (errBadRef otherwise); the timeout and submodules
// parameters are ignored: the build's bounds apply, and submodules are never fetched.
func parseGit(raw string) (gitSpec, error) {
	s := raw
	if strings.HasPrefix(strings.ToLower(s), "git::") {
		s = s[len("git::"):]
	}
	s, query, _ := strings.Cut(s, "?")
	values, err := url.ParseQuery(query)
	if err != nil {
		return gitSpec{}, fmt.Errorf("%w: the query cannot be parsed", errBadRef)
	}
	var spec gitSpec
	for _, key := range []string{"version", "ref"} {
		for _, v := range values[key] {
			if v != "" && !validRef(v) {
				return gitSpec{}, fmt.Errorf("%w %q: a %s must be a branch, tag or commit name (letters, digits, '.', '_', '/', '-', not starting with '-')", errBadRef, v, key)
			}
			if v != "" {
				spec.ref = v // ref wins over version, as in kustomize
			}
		}
	}
	lower := strings.ToLower(s)
	scheme := ""
	switch {
	case strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "http://"):
		scheme, s, _ = strings.Cut(s, "://")
		scheme = strings.ToLower(scheme)
	case strings.HasPrefix(lower, "github.com/"):
		scheme = "https"
	default:
		return gitSpec{}, errors.New("only http(s) Git bases and github.com/ shorthands can be fetched")
	}
	host, p, _ := strings.Cut(s, "/")
	if host == "" || strings.Contains(host, "@") {
		return gitSpec{}, errors.New("a Git base needs a host and no credentials in its URL")
	}
	repo, dir, marked, ok := splitRepo(p)
	if !ok {
		return gitSpec{}, errors.New("no repository path in the Git base")
	}
	spec.marked = marked || spec.ref != ""
	dir = filepath.Clean("/" + dir)[1:]
	if dir == "" {
		dir = "."
	}
	spec.url, spec.host, spec.dir = scheme+"://"+host+"/"+repo, host, dir
	return spec, nil
}

// splitRepo splits a path into the repository and the directory in it, as kustomize does;
// marked says a marker, not the two-segment default, decided it.
func splitRepo(p string) (repo, dir string, marked, ok bool) {
	if i := strings.Index(p, "_git/"); i >= 0 {
		repo, dir, _ := strings.Cut(p[i+len("_git/"):], "/")
		return p[:i+len("_git/")] + repo, dir, true, repo != ""
	}
	if repo, dir, ok := strings.Cut(p, "//"); ok {
		return repo, dir, true, repo != ""
	}
	if i := strings.Index(p, ".git"); i >= 0 {
		return p[:i+len(".git")], p[i+len(".git"):], true, true
	}
	parts := strings.SplitN(p, "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", "", false, false
	}
	if len(parts) == 2 {
		return p, "", false, true
	}
	return parts[0] + "/" + parts[1], parts[2], false, true
}

// gitBase clones spec in-process (go-git: no git program runs, so no value can become an
// option), shallow when the ref is a branch or tag, into memory through the build's byte
// budget, and copies the regular files of the checkout into copy n.
func (f *fetcher) gitBase(ctx context.Context, spec gitSpec, n string) (string, bool, error) {
	if err := checkHost(ctx, spec.host); err != nil {
		return "", false, err
	}
	opts := &gogit.CloneOptions{URL: spec.url, Depth: 1, SingleBranch: true, Tags: gogit.NoTags}
	var commit plumbing.Hash
	if spec.ref != "" {
		name, err := resolveRef(ctx, spec)
		if err != nil {
			return "", false, err
		}
		if name == "" {
			commit = plumbing.NewHash(spec.ref)
			opts.Depth, opts.SingleBranch = 0, false
		} else {
			opts.ReferenceName = name
		}
	}
	store := filesystem.NewStorage(&budgetFS{Filesystem: memfs.New(), f: f}, cache.NewObjectLRUDefault())
	work := &budgetFS{Filesystem: memfs.New(), f: f}
	repo, err := gogit.CloneContext(ctx, store, work, opts)
	if err != nil {
		return "", false, fmt.Errorf("cloning %s: %w", spec.url, err)
	}
	if !commit.IsZero() {
		wt, err := repo.Worktree()
		if err != nil {
			return "", false, err
		}
		if err := wt.Checkout(&gogit.CheckoutOptions{Hash: commit, Force: true}); err != nil {
			return "", false, fmt.Errorf("checking out %s: %w", spec.ref, err)
		}
	}
	if err := f.copyTree(work, n); err != nil {
		return "", false, err
	}
	dir := filepath.Join(n, spec.dir)
	if fi, err := f.root.Stat(dir); err != nil || !fi.IsDir() {
		return "", false, fmt.Errorf("%s is not a directory in %s", spec.dir, spec.url)
	}
	return filepath.Join(f.dir, dir), true, nil
}

// resolveRef finds spec.ref among the remote's branches and tags; "" for a commit hash.
func resolveRef(ctx context.Context, spec gitSpec) (plumbing.ReferenceName, error) {
	remote := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{spec.url}})
	refs, err := remote.ListContext(ctx, &gogit.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("listing %s: %w", spec.url, err)
	}
	for _, want := range []plumbing.ReferenceName{plumbing.NewBranchReferenceName(spec.ref), plumbing.NewTagReferenceName(spec.ref)} {
		for _, r := range refs {
			if r.Name() == want {
				return want, nil
			}
		}
	}
	if commitHash.MatchString(spec.ref) {
		return "", nil
	}
	return "", fmt.Errorf("%s has no branch or tag %q", spec.url, spec.ref)
}

// copyTree copies the regular files of work into copy n (symbolic links are left out).
func (f *fetcher) copyTree(work billy.Filesystem, n string) error {
	return util.Walk(work, "/", func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		src, err := work.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		b, err := io.ReadAll(src)
		if err != nil {
			return err
		}
		dst := filepath.Join(n, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if err := f.root.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		return f.root.WriteFile(dst, b, 0o600)
	})
}

// checkHost refuses a host that resolves to a link-local or cloud-metadata address. (go-git's
// transport is process-wide, so its dialer cannot check; this is checked before it dials.)
func checkHost(ctx context.Context, host string) error {
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	h = strings.Trim(h, "[]")
	ips := []net.IP{net.ParseIP(h)}
	if ips[0] == nil {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, h)
		if err != nil {
			return err
		}
		ips = ips[:0]
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if forbiddenIP(ip) {
			return fmt.Errorf("%s resolves to %s, a link-local or cloud metadata address", h, ip)
		}
	}
	return nil
}

// budgetFS counts every byte written to it against the build's budget.
type budgetFS struct {
	billy.Filesystem
	f *fetcher
}

func (b *budgetFS) Create(name string) (billy.File, error) {
	return b.wrap(b.Filesystem.Create(name))
}

func (b *budgetFS) OpenFile(name string, flag int, perm os.FileMode) (billy.File, error) {
	return b.wrap(b.Filesystem.OpenFile(name, flag, perm))
}

func (b *budgetFS) TempFile(dir, prefix string) (billy.File, error) {
	return b.wrap(b.Filesystem.TempFile(dir, prefix))
}

func (b *budgetFS) Chroot(p string) (billy.Filesystem, error) {
	c, err := b.Filesystem.Chroot(p)
	if err != nil {
		return nil, err
	}
	return &budgetFS{Filesystem: c, f: b.f}, nil
}

func (b *budgetFS) wrap(file billy.File, err error) (billy.File, error) {
	if err != nil {
		return nil, err
	}
	return &budgetFile{File: file, f: b.f}, nil
}

type budgetFile struct {
	billy.File
	f *fetcher
}

func (w *budgetFile) Write(p []byte) (int, error) {
	if err := w.f.spend(len(p)); err != nil {
		return 0, err
	}
	return w.File.Write(p)
}
