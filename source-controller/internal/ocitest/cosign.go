package ocitest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// CosignKey is a cosign key pair for tests.
type CosignKey struct {
	Private *ecdsa.PrivateKey
	// PublicPEM is the public key as `cosign generate-key-pair` writes cosign.pub.
	PublicPEM []byte
}

// NewCosignKey generates an ECDSA P-256 key pair, the kind cosign generates.
func NewCosignKey(t testing.TB) CosignKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cryptoutils.MarshalPublicKeyToPEM(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return CosignKey{Private: priv, PublicPEM: pub}
}

// CosignSign signs the manifest repo@digest with key the way `cosign sign --key
// --tlog-upload=false` does, with sigstore's libraries: a simple-signing payload naming the
// digest, signed, attached to the `sha256-<hex>.sig` tag.
func (r *Registry) CosignSign(t testing.TB, repo, digest string, key CosignKey) {
	t.Helper()
	var nameOpts []name.Option
	if r.CA == nil {
		nameOpts = append(nameOpts, name.Insecure)
	}
	ref, err := name.NewDigest(r.Host+"/"+repo+"@"+digest, nameOpts...)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := payload.Cosign{Image: ref}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signature.LoadECDSASignerVerifier(key.Private, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.SignMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	ociSig, err := static.NewSignature(msg, base64.StdEncoding.EncodeToString(sig))
	if err != nil {
		t.Fatal(err)
	}
	var auth authn.Authenticator = authn.Anonymous
	if r.User != "" {
		auth = &authn.Basic{Username: r.User, Password: r.Password}
	}
	opts := []ociremote.Option{ociremote.WithRemoteOptions(remote.WithAuth(auth), remote.WithTransport(r.Server.Client().Transport))}
	se, err := mutate.AttachSignatureToEntity(ociremote.SignedUnknown(ref, opts...), ociSig)
	if err != nil {
		t.Fatal(err)
	}
	if err := ociremote.WriteSignatures(ref.Repository, se, opts...); err != nil {
		t.Fatal(err)
	}
}
