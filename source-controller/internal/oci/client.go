package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Default limits.
const (
	// DefaultMaxManifestSize bounds a manifest: 4 MiB, as registries do.
	DefaultMaxManifestSize int64 = 4 << 20
	// DefaultMaxLayerSize bounds a layer: 100 MiB.
	DefaultMaxLayerSize int64 = 100 << 20
	// DefaultMaxTags bounds the tags listed to match a SemVer range.
	DefaultMaxTags = 10_000
)

// Errors to classify failures by.
var (
	// ErrAuthentication: the registry rejected the credentials (or asked for some).
	ErrAuthentication = errors.New("authentication failed")
	// ErrNotFound: the reference, manifest or blob does not exist.
	ErrNotFound = errors.New("not found")
	// ErrTooLarge: a manifest or blob is over its size limit.
	ErrTooLarge = errors.New("over the size limit")
	// ErrDigestMismatch: content does not match its digest or size.
	ErrDigestMismatch = errors.New("content does not match its digest")
	// ErrUnsupported: the content is of a kind this package does not handle.
	ErrUnsupported = errors.New("unsupported")
)

// Options configure a Client.
type Options struct {
	// HTTP is the client to reach the registry with (see transport.NewClient).
	HTTP *http.Client
	// PlainHTTP talks HTTP instead of HTTPS.
	PlainHTTP bool
	// Credential is sent to the repository's registry host only; empty for anonymous access.
	Credential auth.Credential
}

// Client pulls from one repository.
type Client struct {
	repo *remote.Repository
	reg  *remote.Registry
	opts Options
	// Host is the registry's host[:port].
	Host string
	// Path is the repository's path in the registry.
	Path string
}

// ParseURL splits `oci://host[:port]/path` into host and repository path. A tag or digest in
// the URL, userinfo, a query or an empty path is an error.
func ParseURL(u string) (host, path string, err error) {
	rest, ok := strings.CutPrefix(u, "oci://")
	if !ok {
		return "", "", errors.New("the URL must start with oci://")
	}
	host, path, _ = strings.Cut(rest, "/")
	path = strings.TrimSuffix(path, "/")
	switch {
	case host == "" || path == "":
		return "", "", errors.New("the URL must be oci://<host>/<repository>")
	case strings.Contains(host, "@"):
		return "", "", errors.New("the URL must not carry credentials: use spec.secretRef")
	case strings.ContainsAny(path, "@:?#") || strings.ContainsAny(host, "?#"):
		return "", "", errors.New("the URL must not carry a tag, digest or query: use spec.ref")
	}
	return host, path, nil
}

// NewClient returns a client for the repository path in the registry host; with an empty
// path, only Ping works.
func NewClient(host, path string, o Options) (*Client, error) {
	reg, err := remote.NewRegistry(host)
	if err != nil {
		return nil, fmt.Errorf("invalid registry '%s'", host)
	}
	repoRef := host + "/" + path
	if path == "" {
		repoRef = host + "/none"
	}
	repo, err := remote.NewRepository(repoRef)
	if err != nil {
		return nil, fmt.Errorf("invalid repository '%s/%s'", host, path)
	}
	httpClient := o.HTTP
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	ac := &auth.Client{Client: httpClient, Cache: auth.NewCache(), Header: http.Header{"User-Agent": {"weir-source-controller"}}}
	if o.Credential != auth.EmptyCredential {
		ac.Credential = auth.StaticCredential(host, o.Credential)
	}
	repo.Client, reg.Client = ac, ac
	repo.PlainHTTP, reg.PlainHTTP = o.PlainHTTP, o.PlainHTTP
	repo.MaxMetadataBytes = DefaultMaxManifestSize
	return &Client{repo: repo, reg: reg, opts: o, Host: host, Path: path}, nil
}

// Options returns the options the client was made with, for other libraries that must reach
// the same registry the same way (signature verification).
func (c *Client) Options() Options { return c.opts }

// Ref selects what to pull: Digest wins over SemVer, which wins over Tag; all empty means the
// tag `latest`.
type Ref struct {
	Digest, SemVer, SemverFilter, Tag string
	// TagToVersion, when set, maps a tag to the version it stands for before SemVer parsing
	// (Helm writes `+` as `_` in tags); tags it maps to "" are skipped.
	TagToVersion func(string) string
}

// Resolve resolves ref to a manifest descriptor and the tag it was found by ("" for a digest).
func (c *Client) Resolve(ctx context.Context, ref Ref) (string, ocispec.Descriptor, error) {
	var tag, reference string
	switch {
	case ref.Digest != "":
		reference = ref.Digest
	case ref.SemVer != "":
		t, err := c.highestTag(ctx, ref)
		if err != nil {
			return "", ocispec.Descriptor{}, err
		}
		tag, reference = t, t
	default:
		tag = ref.Tag
		if tag == "" {
			tag = "latest"
		}
		reference = tag
	}
	desc, err := c.repo.Resolve(ctx, reference)
	if err != nil {
		return "", ocispec.Descriptor{}, c.wrap(err, "resolving '"+reference+"'")
	}
	return tag, desc, nil
}

// errStopListing ends the tag listing early.
var errStopListing = errors.New("enough tags")

// highestTag lists at most DefaultMaxTags tags and returns the one with the highest version
// in ref.SemVer that matches ref.SemverFilter.
func (c *Client) highestTag(ctx context.Context, ref Ref) (string, error) {
	constraint, err := semver.NewConstraint(ref.SemVer)
	if err != nil {
		return "", fmt.Errorf("'%s' is not a valid SemVer range", ref.SemVer)
	}
	var filter *regexp.Regexp
	if ref.SemverFilter != "" {
		if filter, err = regexp.Compile(ref.SemverFilter); err != nil {
			return "", fmt.Errorf("semverFilter '%s' is not a valid regular expression", ref.SemverFilter)
		}
	}
	var best string
	var bestV *semver.Version
	seen := 0
	err = c.repo.Tags(ctx, "", func(tags []string) error {
		for _, t := range tags {
			if seen++; seen > DefaultMaxTags {
				return errStopListing
			}
			if filter != nil && !filter.MatchString(t) {
				continue
			}
			s := t
			if ref.TagToVersion != nil {
				if s = ref.TagToVersion(t); s == "" {
					continue
				}
			}
			v, err := semver.NewVersion(s)
			if err != nil || !constraint.Check(v) {
				continue
			}
			if bestV == nil || v.GreaterThan(bestV) {
				best, bestV = t, v
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopListing) {
		return "", c.wrap(err, "listing tags")
	}
	if best == "" {
		return "", fmt.Errorf("%w: no tag of %s/%s matches the SemVer range '%s'", ErrNotFound, c.Host, c.Path, ref.SemVer)
	}
	return best, nil
}

// Manifest fetches and verifies the image manifest desc describes, at most maxSize bytes.
// An image index (a multi-platform image) is ErrUnsupported.
func (c *Client) Manifest(ctx context.Context, desc ocispec.Descriptor, maxSize int64) (*ocispec.Manifest, error) {
	switch desc.MediaType {
	case ocispec.MediaTypeImageManifest, "application/vnd.docker.distribution.manifest.v2+json":
	case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
		return nil, fmt.Errorf("%w: %s is an image index, not a single artifact: select a digest", ErrUnsupported, desc.Digest)
	default:
		return nil, fmt.Errorf("%w: manifest media type '%s'", ErrUnsupported, desc.MediaType)
	}
	if maxSize <= 0 {
		maxSize = DefaultMaxManifestSize
	}
	if desc.Size > maxSize {
		return nil, fmt.Errorf("manifest %s is %d bytes, %w of %d bytes", desc.Digest, desc.Size, ErrTooLarge, maxSize)
	}
	rc, err := c.repo.Manifests().Fetch(ctx, desc)
	if err != nil {
		return nil, c.wrap(err, "fetching manifest "+desc.Digest.String())
	}
	defer rc.Close()
	data, err := content.ReadAll(rc, desc)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w (%s)", desc.Digest, ErrDigestMismatch, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest %s is not valid JSON", desc.Digest)
	}
	return &m, nil
}

// CopyBlob writes the blob desc describes to w, failing when it is larger than maxSize bytes
// or does not match its digest and size. On error, w may hold part of the blob.
func (c *Client) CopyBlob(ctx context.Context, desc ocispec.Descriptor, maxSize int64, w io.Writer) error {
	if maxSize <= 0 {
		maxSize = DefaultMaxLayerSize
	}
	// The digest comes from the manifest and becomes part of the request's path: one that is
	// not a digest ("sha256:../../other/blobs/x") would reach another path of the registry.
	if err := desc.Digest.Validate(); err != nil {
		return fmt.Errorf("the manifest's layer has an invalid digest: %w", ErrUnsupported)
	}
	if desc.Size > maxSize || desc.Size < 0 {
		return fmt.Errorf("layer %s is %d bytes, %w of %d bytes", desc.Digest, desc.Size, ErrTooLarge, maxSize)
	}
	rc, err := c.repo.Blobs().Fetch(ctx, desc)
	if err != nil {
		return c.wrap(err, "fetching layer "+desc.Digest.String())
	}
	defer rc.Close()
	vr := content.NewVerifyReader(rc, desc)
	if _, err := io.Copy(w, vr); err != nil {
		if errors.Is(err, content.ErrTrailingData) || errors.Is(err, content.ErrMismatchedDigest) {
			return fmt.Errorf("layer %s: %w (%s)", desc.Digest, ErrDigestMismatch, err)
		}
		return c.wrap(err, "reading layer "+desc.Digest.String())
	}
	if err := vr.Verify(); err != nil {
		return fmt.Errorf("layer %s: %w (%s)", desc.Digest, ErrDigestMismatch, err)
	}
	return nil
}

// Ping checks that the registry answers and accepts the credentials.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.reg.Ping(ctx); err != nil {
		return c.wrap(err, "reaching the registry")
	}
	return nil
}

// SelectLayer returns the first layer of m with mediaType, or the first layer when mediaType
// is empty.
func SelectLayer(m *ocispec.Manifest, mediaType string) (ocispec.Descriptor, error) {
	if len(m.Layers) == 0 {
		return ocispec.Descriptor{}, errors.New("the manifest has no layers")
	}
	if mediaType == "" {
		return m.Layers[0], nil
	}
	for _, l := range m.Layers {
		if l.MediaType == mediaType {
			return l, nil
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("the manifest has no layer of media type '%s'", mediaType)
}

// wrap classifies a registry error and prefixes what was being done.
func (c *Client) wrap(err error, doing string) error {
	var er *errcode.ErrorResponse
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s at %s: timed out", doing, c.Host)
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		return fmt.Errorf("%s at %s: %w: the registry asks for credentials and none are configured", doing, c.Host, ErrAuthentication)
	case errors.As(err, &er) && (er.StatusCode == http.StatusUnauthorized || er.StatusCode == http.StatusForbidden):
		return fmt.Errorf("%s at %s: %w (HTTP %d)", doing, c.Host, ErrAuthentication, er.StatusCode)
	case errors.Is(err, errdef.ErrNotFound) || (errors.As(err, &er) && er.StatusCode == http.StatusNotFound):
		return fmt.Errorf("%s at %s/%s: %w", doing, c.Host, c.Path, ErrNotFound)
	case errors.As(err, &er):
		return fmt.Errorf("%s at %s: HTTP %d", doing, c.Host, er.StatusCode)
	}
	return fmt.Errorf("%s at %s: %w", doing, c.Host, err)
}
