package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// DigestAlgorithm is the only digest algorithm Weir writes and accepts.
const DigestAlgorithm = "sha256"

// Digest reads r to the end and returns its digest, "sha256:<hex>", and its size in bytes.
func Digest(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", n, err
	}
	return DigestAlgorithm + ":" + hex.EncodeToString(h.Sum(nil)), n, nil
}

// ParseDigest checks that d is "sha256:" followed by 64 hex digits and returns it with the
// hex in lower case.
func ParseDigest(d string) (string, error) {
	algo, hexPart, ok := strings.Cut(d, ":")
	if !ok || algo != DigestAlgorithm {
		return "", fmt.Errorf("unsupported digest %q: want %s:<hex>", d, DigestAlgorithm)
	}
	if len(hexPart) != sha256.Size*2 {
		return "", fmt.Errorf("invalid digest %q: want %d hex digits", d, sha256.Size*2)
	}
	if _, err := hex.DecodeString(hexPart); err != nil {
		return "", fmt.Errorf("invalid digest %q: not hex", d)
	}
	return DigestAlgorithm + ":" + strings.ToLower(hexPart), nil
}
