package notifier

import (
	"crypto/sha256"
	"encoding/hex"

	"weir.dev/notification-controller/internal/egress"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// loopback is the client of tests whose destinations listen on 127.0.0.1: it allows
// cluster-internal addresses, as --allow-internal-addresses does.
var loopback = NewClient(nil, &egress.Policy{AllowInternal: true})

// onLoopback returns c sending with loopback.
func onLoopback(c Config) Config {
	c.Client = loopback
	return c
}
