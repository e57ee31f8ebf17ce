package receiver

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // generic-hmac accepts HMAC-SHA1 for Flux compatibility.
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"strings"
)

// verifyPrefixedHMAC checks a signature written `<algorithm>=<hex>`: sha256 always, sha1 and
// sha512 when anyAlgorithm is set.
func verifyPrefixedHMAC(sig, header string, key, body []byte, anyAlgorithm bool) error {
	algo, hexSig, ok := strings.Cut(sig, "=")
	if sig == "" || !ok {
		return unauthorized("missing or malformed %s", header)
	}
	var h func() hash.Hash
	switch {
	case algo == "sha256":
		h = sha256.New
	case algo == "sha512" && anyAlgorithm:
		h = sha512.New
	case algo == "sha1" && anyAlgorithm:
		h = sha1.New
	default:
		return unauthorized("%s: unsupported algorithm", header)
	}
	return verifyHexHMAC(hexSig, header, h, key, body)
}

// verifyHexHMAC checks that hexSig is the hex HMAC of body keyed by key.
func verifyHexHMAC(hexSig, header string, h func() hash.Hash, key, body []byte) error {
	got, err := hex.DecodeString(hexSig)
	if hexSig == "" || err != nil {
		return unauthorized("missing or malformed %s", header)
	}
	mac := hmac.New(h, key)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return unauthorized("invalid %s", header)
	}
	return nil
}
