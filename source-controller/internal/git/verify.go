package git

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrVerification is returned when a signature is missing or made by none of the keys.
var ErrVerification = errors.New("signature verification failed")

// VerifyCommit checks that c is signed by one of the keys (armored OpenPGP public keys, or SSH
// public keys in authorized_keys format for SSH signatures) and returns the signing key's ID
// (OpenPGP) or fingerprint (SSH).
func VerifyCommit(c *object.Commit, keys map[string][]byte) (string, error) {
	if c.PGPSignature == "" {
		return "", fmt.Errorf("%w: commit %s is not signed", ErrVerification, c.Hash)
	}
	if isSSHSignature(c.PGPSignature) {
		payload, err := unsigned(c.EncodeWithoutSignature)
		if err != nil {
			return "", fmt.Errorf("%w: commit %s: %v", ErrVerification, c.Hash, err)
		}
		return verifySSH(c.PGPSignature, payload, sshKeys(keys), "commit "+c.Hash.String())
	}
	return verifyWith(keys, func(ring string) (uint64, error) {
		e, err := c.Verify(ring)
		if err != nil {
			return 0, err
		}
		return e.PrimaryKey.KeyId, nil
	}, "commit "+c.Hash.String())
}

// VerifyTag checks that the annotated tag object tagObject is signed by one of the keys (see
// VerifyCommit).
func VerifyTag(repo *gogit.Repository, tagObject string, keys map[string][]byte) (string, error) {
	if tagObject == "" {
		return "", fmt.Errorf("%w: the tag is not annotated, so it carries no signature", ErrVerification)
	}
	tag, err := repo.TagObject(plumbing.NewHash(tagObject))
	if err != nil {
		return "", fmt.Errorf("%w: reading tag object %s: %v", ErrVerification, tagObject, err)
	}
	if tag.PGPSignature == "" {
		return "", fmt.Errorf("%w: tag %s is not signed", ErrVerification, tag.Name)
	}
	if isSSHSignature(tag.PGPSignature) {
		payload, err := unsigned(tag.EncodeWithoutSignature)
		if err != nil {
			return "", fmt.Errorf("%w: tag %s: %v", ErrVerification, tag.Name, err)
		}
		return verifySSH(tag.PGPSignature, payload, sshKeys(keys), "tag "+tag.Name)
	}
	return verifyWith(keys, func(ring string) (uint64, error) {
		e, err := tag.Verify(ring)
		if err != nil {
			return 0, err
		}
		return e.PrimaryKey.KeyId, nil
	}, "tag "+tag.Name)
}

// verifyWith tries each key of the Secret in name order; any one verifying is enough.
func verifyWith(keys map[string][]byte, verify func(ring string) (uint64, error), what string) (string, error) {
	if len(keys) == 0 {
		return "", fmt.Errorf("%w: the verification secret holds no keys", ErrVerification)
	}
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if id, err := verify(string(keys[n])); err == nil {
			return strings.ToUpper(fmt.Sprintf("%016x", id)), nil
		}
	}
	return "", fmt.Errorf("%w: %s is not signed by any key in the verification secret", ErrVerification, what)
}

// unsigned returns the bytes a signature of a commit or tag covers: the object encoded without
// its signature.
func unsigned(encode func(plumbing.EncodedObject) error) ([]byte, error) {
	o := &plumbing.MemoryObject{}
	if err := encode(o); err != nil {
		return nil, err
	}
	r, err := o.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
