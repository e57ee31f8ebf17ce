package gittest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// SSHSigner signs commits and tags as `git -c gpg.format=ssh` does: an armored SSH signature
// (OpenSSH's sshsig format, namespace "git", SHA-512) made with an ed25519 key.
type SSHSigner struct {
	signer ssh.Signer
	// AuthorizedKey is the public key in authorized_keys format, for a verification Secret.
	AuthorizedKey []byte
}

// NewSSHSigner makes an ed25519 key and its signer.
func NewSSHSigner(t testing.TB) *SSHSigner {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return &SSHSigner{signer: s, AuthorizedKey: ssh.MarshalAuthorizedKey(s.PublicKey())}
}

// Sign returns the armored SSH signature of message.
func (s *SSHSigner) Sign(message io.Reader) ([]byte, error) {
	h := sha512.New()
	if _, err := io.Copy(h, message); err != nil {
		return nil, err
	}
	signed := append([]byte("SSHSIG"), ssh.Marshal(struct {
		Namespace, Reserved, HashAlgorithm string
		Hash                               []byte
	}{"git", "", "sha512", h.Sum(nil)})...)
	sig, err := s.signer.Sign(rand.Reader, signed)
	if err != nil {
		return nil, err
	}
	blob := append([]byte("SSHSIG"), ssh.Marshal(struct {
		Version                            uint32
		PublicKey                          []byte
		Namespace, Reserved, HashAlgorithm string
		Signature                          []byte
	}{1, s.signer.PublicKey().Marshal(), "git", "", "sha512", ssh.Marshal(sig)})...)
	enc := base64.StdEncoding.EncodeToString(blob)
	var b strings.Builder
	b.WriteString("-----BEGIN SSH SIGNATURE-----\n")
	for len(enc) > 70 {
		b.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	b.WriteString(enc + "\n-----END SSH SIGNATURE-----\n")
	return []byte(b.String()), nil
}
