package verification

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// KeySuffix marks the public keys in a verification Secret: every key whose name ends with it.
const KeySuffix = ".pub"

// ErrNoValidSignature is wrapped when no signature is valid for any of the keys.
var ErrNoValidSignature = errors.New("no valid cosign signature")

// Registry says how to reach the registry holding the artifact and its signatures.
type Registry struct {
	// Transport carries the requests (TLS and proxy settings included); nil for the default.
	Transport http.RoundTripper
	// PlainHTTP talks HTTP instead of HTTPS.
	PlainHTTP bool
	// Username and Password authenticate to the registry; empty for anonymous access.
	Username, Password string
}

// PublicKeys returns the PEM public keys of a verification Secret's data, by key name, and an
// error when there is none or one does not parse (naming the key, never its content).
func PublicKeys(data map[string][]byte) (map[string]crypto.PublicKey, error) {
	keys := map[string]crypto.PublicKey{}
	for k, v := range data {
		if !strings.HasSuffix(k, KeySuffix) {
			continue
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(v)
		if err != nil {
			return nil, fmt.Errorf("'%s' is not a PEM public key", k)
		}
		keys[k] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no key ending in '%s'", KeySuffix)
	}
	return keys, nil
}

// Verify checks that the artifact repository@digest (e.g. `host:port/org/app`,
// `sha256:<hex>`) has a cosign signature valid for one of keys, and returns that key's name.
func Verify(ctx context.Context, repository, digest string, keys map[string]crypto.PublicKey, reg Registry) (string, error) {
	var nameOpts []name.Option
	if reg.PlainHTTP {
		nameOpts = append(nameOpts, name.Insecure)
	}
	ref, err := name.NewDigest(repository+"@"+digest, nameOpts...)
	if err != nil {
		return "", fmt.Errorf("invalid artifact reference: %w", err)
	}
	var auth authn.Authenticator = authn.Anonymous
	if reg.Username != "" || reg.Password != "" {
		auth = &authn.Basic{Username: reg.Username, Password: reg.Password}
	}
	tr := reg.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	remoteOpts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(tr), remote.WithAuth(auth)}

	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names)
	var errs []error
	for _, k := range names {
		verifier, err := signature.LoadVerifier(keys[k], crypto.SHA256)
		if err != nil {
			errs = append(errs, fmt.Errorf("key '%s': unsupported key type", k))
			continue
		}
		_, _, err = cosign.VerifyImageSignatures(ctx, ref, &cosign.CheckOpts{
			RegistryClientOpts: []ociremote.Option{ociremote.WithRemoteOptions(remoteOpts...), ociremote.WithNameOptions(nameOpts...)},
			SigVerifier:        verifier,
			ClaimVerifier:      cosign.SimpleClaimVerifier,
			IgnoreTlog:         true,
			IgnoreSCT:          true,
			Offline:            true,
		})
		if err == nil {
			return k, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("verifying %s: timed out", digest)
		}
		errs = append(errs, fmt.Errorf("key '%s': %s", k, shorten(err.Error())))
	}
	return "", fmt.Errorf("%w for %s: %w", ErrNoValidSignature, digest, errors.Join(errs...))
}

func shorten(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
