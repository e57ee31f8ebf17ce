package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Bounds on what one build fetches when remote bases are allowed: all its fetches together.
// Variables so tests can shorten them.
var (
	// remoteTimeout bounds the time of all fetches of one build.
	remoteTimeout = 60 * time.Second
	// remoteMaxBytes bounds the bytes received over HTTP plus those Git clones write.
	remoteMaxBytes int64 = 64 << 20
)

// maxRemoteFetches is the most remote references one build fetches.
const maxRemoteFetches = 20

// fetcher fetches the remote references of one build, outside kustomize and its lock, into a
// temporary directory that only it writes (through an os.Root), within the build's bounds.
type fetcher struct {
	dir   string // the copies, symbolic links resolved; <dir>/<n> is the n-th fetch
	root  *os.Root
	left  atomic.Int64 // bytes the build may still fetch
	count int
	cache map[string]fetched // by reference
	refs  map[string]string  // <n> to its reference, for messages
}

type fetched struct {
	path string
	dir  bool
}

func newFetcher() (*fetcher, error) {
	dir, err := os.MkdirTemp("", "weir-remote-")
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	f := &fetcher{dir: dir, root: root, cache: map[string]fetched{}, refs: map[string]string{}}
	f.left.Store(remoteMaxBytes)
	return f, nil
}

// close removes every copy.
func (f *fetcher) close() {
	_ = f.root.Close()
	_ = os.RemoveAll(f.dir)
}

// spend takes n bytes from the build's budget.
func (f *fetcher) spend(n int) error {
	if f.left.Add(-int64(n)) < 0 {
		return fmt.Errorf("remote bases exceed the limit of %d bytes per build", remoteMaxBytes)
	}
	return nil
}

// name is p, a path in a copy, as "<reference> <path in it>" for messages.
func (f *fetcher) name(p string) string {
	rel, ok := within(f.dir, p)
	if !ok {
		return p
	}
	n, rest, _ := strings.Cut(filepath.ToSlash(rel), "/")
	return redactURL(f.refs[n]) + " " + rest
}

// get fetches ref and returns the local copy's path and whether it is a directory. asBase says
// kustomize would accept a Git base there; otherwise only an http(s) file is. An http(s) entry
// that can only be a Git base (gitSpec.marked) is cloned; any other is first tried as a file,
// then, on a status other than 2xx, as a Git repository, as kustomize does.
func (f *fetcher) get(ctx context.Context, ref string, asBase bool) (string, bool, error) {
	if c, ok := f.cache[ref]; ok {
		return c.path, c.dir, nil
	}
	spec, gitErr := parseGit(ref)
	if errors.Is(gitErr, errBadRef) {
		return "", false, gitErr
	}
	if f.count >= maxRemoteFetches {
		return "", false, fmt.Errorf("more than %d remote references in one build", maxRemoteFetches)
	}
	f.count++
	n := strconv.Itoa(f.count)
	f.refs[n] = ref
	if err := f.root.Mkdir(n, 0o700); err != nil {
		return "", false, err
	}
	var got fetched
	var err error
	lower := strings.ToLower(ref)
	isHTTP := strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
	switch {
	case isHTTP && asBase && gitErr == nil && spec.marked:
		got.path, got.dir, err = f.gitBase(ctx, spec, n)
	case isHTTP && (!asBase || gitErr != nil):
		got.path, err = f.file(ctx, ref, n)
	case isHTTP:
		if got.path, err = f.file(ctx, ref, n); errors.Is(err, errHTTPStatus) {
			got.path, got.dir, err = f.gitBase(ctx, spec, n)
		}
	case !asBase:
		err = errors.New("only http(s) files can be fetched here")
	case gitErr != nil:
		err = gitErr
	default:
		got.path, got.dir, err = f.gitBase(ctx, spec, n)
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("fetching remote bases took longer than the limit of %s per build: %w", remoteTimeout, err)
		}
		return "", false, err
	}
	if err := Guard(filepath.Join(f.dir, n)); err != nil {
		return "", false, err
	}
	f.cache[ref] = got
	return got.path, got.dir, nil
}

// errHTTPStatus is a response other than 2xx.
var errHTTPStatus = errors.New("HTTP status")

// fileName is a safe name for a fetched file.
var fileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// file fetches the http(s) file at rawURL into the copy n.
func (f *fetcher) file(ctx context.Context, rawURL, n string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	resp, err := remoteClient.Do(req)
	if err != nil {
		return "", errors.New(redactURL(err.Error()))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("%w %d", errHTTPStatus, resp.StatusCode)
	}
	b, err := io.ReadAll(&budgetReader{r: resp.Body, f: f})
	if err != nil {
		return "", err
	}
	name := path.Base(u.Path)
	if !fileName.MatchString(name) {
		name = "resource.yaml"
	}
	rel := filepath.Join(n, name)
	if err := f.root.WriteFile(rel, b, 0o600); err != nil {
		return "", err
	}
	return filepath.Join(f.dir, rel), nil
}

// budgetReader reads through the build's byte budget.
type budgetReader struct {
	r io.Reader
	f *fetcher
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if e := b.f.spend(n); e != nil {
		return 0, e
	}
	return n, err
}

// remoteClient makes the HTTP requests of remote bases: it never dials a link-local or
// cloud-metadata address and follows at most five redirects.
var remoteClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: 10 * time.Second, Control: refuseForbidden}).DialContext,
		TLSHandshakeTimeout:    10 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		ForceAttemptHTTP2:      true,
	},
	CheckRedirect: func(_ *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("more than 5 redirects")
		}
		return nil
	},
}

// refuseForbidden is a dialer's check that the address is not one user data may never reach.
func refuseForbidden(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip != nil && forbiddenIP(ip) {
		return fmt.Errorf("address %s is link-local or a cloud metadata service", ip)
	}
	return nil
}

// Cloud metadata services outside the link-local ranges (AWS over IPv6, Alibaba Cloud).
var metadataIPs = []net.IP{net.ParseIP("fd00:ec2::254"), net.ParseIP("100.100.100.200")}

func forbiddenIP(ip net.IP) bool {
	if ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
		return true
	}
	for _, m := range metadataIPs {
		if m.Equal(ip) {
			return true
		}
	}
	return false
}
