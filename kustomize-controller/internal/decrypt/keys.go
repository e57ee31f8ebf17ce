package decrypt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/ProtonMail/go-crypto/openpgp"
	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/getsops/sops/v3"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/pgp"
	"github.com/getsops/sops/v3/shamir"
	corev1 "k8s.io/api/core/v1"
)

// Suffixes of the decryption Secret's entries that hold private keys; other entries are ignored.
const (
	// AgeKeySuffix marks an entry with age identities, one AGE-SECRET-KEY-1… per line.
	AgeKeySuffix = ".agekey"
	// PGPKeySuffix marks an entry with ASCII-armored OpenPGP private keys without a passphrase.
	PGPKeySuffix = ".asc"
)

// maxDataKeySize bounds what decrypting a master key may return; SOPS data keys are 32 bytes.
const maxDataKeySize = 1 << 10

// Decryptor decrypts SOPS documents with the private keys of one decryption Secret, in
// process: it runs no program (no gpg, no age plugin) and reads no key from the environment,
// a keyring or the file system, so only the Secret's keys can open a document. It is safe
// for concurrent use.
type Decryptor struct {
	secret string // the Secret as "namespace/name", for messages
	age    []age.Identity
	pgp    openpgp.EntityList
}

// KeysFromSecret parses the private keys in secret: every entry whose key ends in
// AgeKeySuffix or PGPKeySuffix. An entry that cannot be parsed, or a Secret with no such
// entry, is an error that names the Secret and the entry, never their content.
func KeysFromSecret(secret *corev1.Secret) (*Decryptor, error) {
	d := &Decryptor{secret: secret.Namespace + "/" + secret.Name}
	for _, name := range slices.Sorted(maps.Keys(secret.Data)) {
		var err error
		switch value := secret.Data[name]; {
		case strings.HasSuffix(name, AgeKeySuffix):
			var ids []age.Identity
			if ids, err = parseAgeIdentities(value); err == nil {
				d.age = append(d.age, ids...)
			}
		case strings.HasSuffix(name, PGPKeySuffix):
			var keys openpgp.EntityList
			if keys, err = parsePGPKeys(value); err == nil {
				d.pgp = append(d.pgp, keys...)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("entry '%s' of Secret '%s': %w", name, d.secret, err)
		}
	}
	if len(d.age) == 0 && len(d.pgp) == 0 {
		return nil, fmt.Errorf("Secret '%s' has no decryption key: want entries ending in %s (age) or %s (OpenPGP)",
			d.secret, AgeKeySuffix, PGPKeySuffix)
	}
	return d, nil
}

// parseAgeIdentities parses one age identity per line, skipping blank lines and # comments
// (as age-keygen writes them). Plugin identities are refused: they run external programs.
func parseAgeIdentities(b []byte) ([]age.Identity, error) {
	var ids []age.Identity
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		var id age.Identity
		var err error
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "AGE-PLUGIN-"):
			return nil, fmt.Errorf("line %d is an age plugin identity, which is not supported", i+1)
		case strings.HasPrefix(line, "AGE-SECRET-KEY-PQ-1"):
			id, err = age.ParseHybridIdentity(line)
		case strings.HasPrefix(line, "AGE-SECRET-KEY-1"):
			id, err = age.ParseX25519Identity(line)
		default:
			err = errors.New("unknown")
		}
		if err != nil {
			// The parser's message may quote the line: say only where it is.
			return nil, fmt.Errorf("line %d is not an age identity", i+1)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, errors.New("no age identity in it")
	}
	return ids, nil
}

// parsePGPKeys parses one or more ASCII-armored OpenPGP private key blocks. A public key, or
// a private key protected by a passphrase (which nothing could type in), is refused.
func parsePGPKeys(b []byte) (openpgp.EntityList, error) {
	const begin = "-----BEGIN PGP "
	text := string(b)
	if !strings.Contains(text, begin) {
		return nil, errors.New("not an ASCII-armored OpenPGP key")
	}
	var keys openpgp.EntityList
	// ReadArmoredKeyRing reads one armored block: read each from its BEGIN line on.
	for _, block := range strings.Split(text, begin)[1:] {
		list, err := openpgp.ReadArmoredKeyRing(strings.NewReader(begin + block))
		if err != nil {
			return nil, errors.New("not an ASCII-armored OpenPGP key")
		}
		keys = append(keys, list...)
	}
	for _, e := range keys {
		fp := fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
		if e.PrivateKey == nil {
			return nil, fmt.Errorf("OpenPGP key %s is a public key, want the private key", fp)
		}
		if locked(e) {
			return nil, fmt.Errorf("OpenPGP key %s is protected by a passphrase, which is not supported", fp)
		}
	}
	return keys, nil
}

// locked reports whether any of e's private keys is still encrypted with a passphrase.
func locked(e *openpgp.Entity) bool {
	if e.PrivateKey.Encrypted && !e.PrivateKey.Dummy() {
		return true
	}
	for _, sub := range e.Subkeys {
		if sub.PrivateKey != nil && sub.PrivateKey.Encrypted && !sub.PrivateKey.Dummy() {
			return true
		}
	}
	return false
}

// dataKey recovers the document's data key from its master keys, joining Shamir shares when
// the document has several key groups. Only age and OpenPGP master keys can be opened.
func (d *Decryptor) dataKey(md sops.Metadata) ([]byte, error) {
	var parts [][]byte
	for _, group := range md.KeyGroups {
		if part := d.openGroup(group); part != nil {
			parts = append(parts, part)
		}
	}
	if len(md.KeyGroups) <= 1 {
		if len(parts) == 1 {
			return parts[0], nil
		}
		return nil, d.noKeyError(md)
	}
	threshold := md.ShamirThreshold
	if threshold <= 0 {
		threshold = len(md.KeyGroups)
	}
	if len(parts) < threshold {
		if len(parts) == 0 {
			return nil, d.noKeyError(md)
		}
		return nil, fmt.Errorf("keys in Secret '%s' open %d of the %d key groups it needs", d.secret, len(parts), threshold)
	}
	key, err := shamir.Combine(parts)
	if err != nil {
		return nil, errors.New("the shares of its key groups do not combine into a data key")
	}
	return key, nil
}

// openGroup returns the data key (or Shamir share) that the first master key of group it can
// decrypt holds, or nil.
func (d *Decryptor) openGroup(group sops.KeyGroup) []byte {
	for _, mk := range group {
		var key []byte
		var err error
		switch mk := mk.(type) {
		case *sopsage.MasterKey:
			key, err = d.openAge(mk.EncryptedKey)
		case *pgp.MasterKey:
			key, err = d.openPGP(mk.EncryptedKey)
		default:
			continue
		}
		if err == nil {
			return key
		}
	}
	return nil
}

func (d *Decryptor) openAge(enc string) ([]byte, error) {
	if len(d.age) == 0 {
		return nil, errors.New("no age identity")
	}
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(enc)), d.age...)
	if err != nil {
		return nil, err
	}
	return readDataKey(r)
}

func (d *Decryptor) openPGP(enc string) ([]byte, error) {
	if len(d.pgp) == 0 {
		return nil, errors.New("no OpenPGP key")
	}
	block, err := pgparmor.Decode(strings.NewReader(enc))
	if err != nil {
		return nil, err
	}
	md, err := openpgp.ReadMessage(block.Body, d.pgp, nil, nil)
	if err != nil {
		return nil, err
	}
	// Reading to the end checks the message's integrity (MDC or AEAD).
	return readDataKey(md.UnverifiedBody)
}

func readDataKey(r io.Reader) ([]byte, error) {
	var b bytes.Buffer
	if _, err := io.Copy(&b, io.LimitReader(r, maxDataKeySize+1)); err != nil {
		return nil, err
	}
	if b.Len() > maxDataKeySize {
		return nil, errors.New("data key too large")
	}
	return b.Bytes(), nil
}

// noKeyError says which keys were tried and which recipients (public keys) the document is
// encrypted for, so the user can tell which private key is missing.
func (d *Decryptor) noKeyError(md sops.Metadata) error {
	var tried []string
	if len(d.age) > 0 {
		tried = append(tried, "age")
	}
	if len(d.pgp) > 0 {
		tried = append(tried, "OpenPGP")
	}
	var recipients []string
	for _, group := range md.KeyGroups {
		for _, mk := range group {
			switch mk := mk.(type) {
			case *sopsage.MasterKey:
				recipients = append(recipients, "age "+mk.Recipient)
			case *pgp.MasterKey:
				recipients = append(recipients, "OpenPGP "+mk.Fingerprint)
			default:
				recipients = append(recipients, mk.TypeToIdentifier()+" (not supported)")
			}
		}
	}
	if len(recipients) == 0 {
		recipients = []string{"no key at all"}
	}
	return fmt.Errorf("no key in Secret '%s' can decrypt it: tried %s; it is encrypted for %s",
		d.secret, strings.Join(tried, ", "), strings.Join(recipients, ", "))
}
