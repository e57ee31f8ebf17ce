package image

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// PushOption changes how Push talks to the registry.
type PushOption func(*pushOptions)

type pushOptions struct {
	insecure bool
	keychain authn.Keychain
}

// Insecure lets Push speak plain HTTP to the registry, for a test registry on a loopback
// address. Without it Push speaks only HTTPS, even to 127.0.0.1.
func Insecure() PushOption { return func(o *pushOptions) { o.insecure = true } }

// WithKeychain replaces authn.DefaultKeychain (the docker config file: $DOCKER_CONFIG or
// ~/.docker/config.json) as the source of credentials.
func WithKeychain(k authn.Keychain) PushOption { return func(o *pushOptions) { o.keychain = k } }

// Pushed is one image index in a registry.
type Pushed struct {
	Controller string
	Ref        name.Tag
	Digest     v1.Hash
}

// String is the reference by digest: registry/controller:version@sha256:….
func (p Pushed) String() string { return p.Ref.String() + "@" + p.Digest.String() }

// CheckTarget reports whether registry and version make valid references
// <registry>/<controller>:<version>: registry is host[:port][/path], without a tag or digest,
// and version is a valid tag. Call it before building anything.
func CheckTarget(registry, version string) error {
	_, err := tags(registry, version, Controllers, false)
	return err
}

// tags returns <registry>/<c>:<version> for each controller c.
func tags(registry, version string, controllers []string, insecure bool) ([]name.Tag, error) {
	if registry == "" {
		return nil, errors.New("registry is empty: want host[:port][/path], e.g. ghcr.io/you")
	}
	host, repoPath, _ := strings.Cut(registry, "/")
	if host == "" || strings.ContainsAny(registry, "@ \t") || strings.Contains(repoPath, ":") || strings.HasSuffix(registry, "/") {
		return nil, fmt.Errorf("registry %q: want host[:port][/path], without a tag or digest", registry)
	}
	if _, err := name.NewRepository(registry+"/weir", name.StrictValidation); err != nil {
		return nil, fmt.Errorf("registry %q: %v", registry, err)
	}
	if _, err := name.NewTag("weir.invalid/weir:"+version, name.StrictValidation); err != nil || version == "" || strings.IndexAny(version[:1], ".-") == 0 {
		return nil, fmt.Errorf("version %q is not a valid image tag: letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'", version)
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	var out []name.Tag
	for _, c := range controllers {
		t, err := name.NewTag(registry+"/"+c+":"+version, append(opts, name.StrictValidation)...)
		if err != nil {
			return nil, fmt.Errorf("%s/%s:%s: %v", registry, c, version, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// Push writes each index of set to <registry>/<controller>:<version> and returns where they
// went, sorted by controller. Credentials come from the docker config file; an error is one
// line that names the registry and never holds a credential.
func Push(ctx context.Context, set Set, registry, version string, opts ...PushOption) ([]Pushed, error) {
	o := pushOptions{keychain: authn.DefaultKeychain}
	for _, opt := range opts {
		opt(&o)
	}
	refs, err := tags(registry, version, set.Names(), o.insecure)
	if err != nil {
		return nil, err
	}
	rt := http.RoundTripper(remote.DefaultTransport)
	if !o.insecure {
		rt = httpsOnly{rt}
	}
	var out []Pushed
	for i, c := range set.Names() {
		ref, idx := refs[i], set[c]
		err := remote.WriteIndex(ref, idx, remote.WithContext(ctx), remote.WithTransport(rt),
			remote.WithAuthFromKeychain(o.keychain), remote.WithUserAgent("weir-release"))
		if err != nil {
			return out, pushError(ref, o.keychain, err)
		}
		d, err := idx.Digest()
		if err != nil {
			return out, err
		}
		out = append(out, Pushed{Controller: c, Ref: ref, Digest: d})
	}
	return out, nil
}

// errPlainHTTP is what httpsOnly answers a plain HTTP request with.
var errPlainHTTP = errors.New("plain HTTP refused")

// httpsOnly refuses plain HTTP, which go-containerregistry falls back to for loopback and
// private addresses on its own.
type httpsOnly struct{ next http.RoundTripper }

func (t httpsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" {
		return nil, errPlainHTTP
	}
	return t.next.RoundTrip(r)
}

// pushError turns err into one line that says what to fix. Only the registry's own words and
// network errors are quoted: neither holds the credentials Push sent.
func pushError(ref name.Tag, keys authn.Keychain, err error) error {
	host := ref.RegistryStr()
	var terr *transport.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("push %s: %v", ref, err)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusUnauthorized:
		if a, kerr := keys.Resolve(ref.Context()); kerr == nil && a == authn.Anonymous {
			return fmt.Errorf("push %s: %s asks for credentials and the docker config ($DOCKER_CONFIG or ~/.docker/config.json) has none for it: docker login %s", ref, host, host)
		}
		return fmt.Errorf("push %s: %s refused the credentials of the docker config ($DOCKER_CONFIG or ~/.docker/config.json): authentication failed", ref, host)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusForbidden:
		return fmt.Errorf("push %s: %s denied the push: the account may not write to %s", ref, host, ref.RepositoryStr())
	case errors.As(err, &dnsErr):
		return fmt.Errorf("push %s: unknown registry host %s: %v", ref, host, dnsErr.Err)
	case errors.As(err, &opErr):
		return fmt.Errorf("push %s: cannot reach registry %s: %v", ref, host, opErr.Err)
	case errors.Is(err, errPlainHTTP):
		// Checked after the network errors: a closed port fails both schemes.
		return fmt.Errorf("push %s: %s does not speak HTTPS; pass --insecure (Insecure()) only for a test registry", ref, host)
	}
	return fmt.Errorf("push %s: %s", ref, strings.Join(strings.Fields(err.Error()), " "))
}
