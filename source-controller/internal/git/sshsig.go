package git

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strings"

	"golang.org/x/crypto/ssh"
)

// SSH signatures (git's gpg.format=ssh) are in OpenSSH's sshsig format (PROTOCOL.sshsig): an
// armored blob naming the signer's public key, a namespace ("git" for commits and tags), a hash
// algorithm and the signature over a preamble and the hash of the signed object.

const (
	sshSigBegin     = "-----BEGIN SSH SIGNATURE-----"
	sshSigEnd       = "-----END SSH SIGNATURE-----"
	sshSigMagic     = "SSHSIG"
	sshSigVersion   = 1
	sshSigNamespace = "git"
	// maxSSHSignature bounds the armored signature read from a commit or tag.
	maxSSHSignature = 64 << 10
)

// isSSHSignature reports whether the signature of a commit or tag is an SSH one.
func isSSHSignature(sig string) bool {
	return strings.HasPrefix(strings.TrimSpace(sig), sshSigBegin)
}

// sshSigBlob is the body of an armored SSH signature, after the magic preamble.
type sshSigBlob struct {
	Version       uint32
	PublicKey     []byte
	Namespace     string
	Reserved      string
	HashAlgorithm string
	Signature     []byte
}

// sshSignedData is what the signature of an SSH signature is over, after the magic preamble.
type sshSignedData struct {
	Namespace     string
	Reserved      string
	HashAlgorithm string
	Hash          []byte
}

// parseSSHSignature decodes an armored SSH signature.
func parseSSHSignature(armored string) (*sshSigBlob, error) {
	if len(armored) > maxSSHSignature {
		return nil, errors.New("the SSH signature is too large")
	}
	body, ok := strings.CutPrefix(strings.TrimSpace(armored), sshSigBegin)
	if !ok {
		return nil, errors.New("not an SSH signature")
	}
	body, ok = strings.CutSuffix(body, sshSigEnd)
	if !ok {
		return nil, errors.New("the SSH signature has no end line")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return nil, fmt.Errorf("the SSH signature is not valid base64: %v", err)
	}
	rest, ok := bytes.CutPrefix(raw, []byte(sshSigMagic))
	if !ok {
		return nil, errors.New("the SSH signature lacks the SSHSIG preamble")
	}
	var blob sshSigBlob
	if err := ssh.Unmarshal(rest, &blob); err != nil {
		return nil, fmt.Errorf("malformed SSH signature: %v", err)
	}
	if blob.Version != sshSigVersion {
		return nil, fmt.Errorf("SSH signature version %d is not supported", blob.Version)
	}
	return &blob, nil
}

// sshHash returns the hash an SSH signature names: sha256 or sha512.
func sshHash(name string) (hash.Hash, error) {
	switch name {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("SSH signature hash algorithm %q is not supported", name)
}

// verifySSH checks that armored is a valid "git" SSH signature of message by one of keys (a
// name, as in the Secret, for each key) and returns the signer's fingerprint. A signature by a
// key not in keys names that key's fingerprint.
func verifySSH(armored string, message []byte, keys map[string][]ssh.PublicKey, what string) (string, error) {
	blob, err := parseSSHSignature(armored)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrVerification, what, err)
	}
	if blob.Namespace != sshSigNamespace {
		return "", fmt.Errorf("%w: %s: the SSH signature is for namespace %q, not %q", ErrVerification, what, blob.Namespace, sshSigNamespace)
	}
	signer, err := ssh.ParsePublicKey(blob.PublicKey)
	if err != nil {
		return "", fmt.Errorf("%w: %s: the SSH signature's public key: %v", ErrVerification, what, err)
	}
	fingerprint := ssh.FingerprintSHA256(signer)
	if !trusted(keys, signer) {
		return "", fmt.Errorf("%w: %s is signed with SSH key %s, which is not in the verification secret", ErrVerification, what, fingerprint)
	}
	var sig ssh.Signature
	if err := ssh.Unmarshal(blob.Signature, &sig); err != nil {
		return "", fmt.Errorf("%w: %s: malformed SSH signature: %v", ErrVerification, what, err)
	}
	if sig.Format == ssh.KeyAlgoRSA {
		return "", fmt.Errorf("%w: %s: SSH signatures with SHA-1 (ssh-rsa) are not accepted", ErrVerification, what)
	}
	h, err := sshHash(blob.HashAlgorithm)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrVerification, what, err)
	}
	h.Write(message)
	signed := append([]byte(sshSigMagic), ssh.Marshal(sshSignedData{
		Namespace: blob.Namespace, Reserved: blob.Reserved, HashAlgorithm: blob.HashAlgorithm, Hash: h.Sum(nil),
	})...)
	if err := signer.Verify(signed, &sig); err != nil {
		return "", fmt.Errorf("%w: %s: the SSH signature by key %s does not match its content", ErrVerification, what, fingerprint)
	}
	return fingerprint, nil
}

// trusted reports whether key is one of keys.
func trusted(keys map[string][]ssh.PublicKey, key ssh.PublicKey) bool {
	want := key.Marshal()
	for _, list := range keys {
		for _, k := range list {
			if bytes.Equal(k.Marshal(), want) {
				return true
			}
		}
	}
	return false
}

// sshKeys parses the values of the verification Secret that hold SSH public keys, one or more
// per value in authorized_keys format (options are ignored). Values that hold none (armored
// OpenPGP keys) are left out.
func sshKeys(values map[string][]byte) map[string][]ssh.PublicKey {
	out := map[string][]ssh.PublicKey{}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rest := values[n]
		for len(bytes.TrimSpace(rest)) > 0 {
			key, _, _, next, err := ssh.ParseAuthorizedKey(rest)
			if err != nil {
				break
			}
			out[n] = append(out[n], key)
			rest = next
		}
	}
	return out
}
