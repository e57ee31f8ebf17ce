package app

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Version is the controller's release version. Release builds set it with
// -ldflags "-X weir.dev/pkg/app.Version=v1.2.3" (make images does); other builds say "devel".
var Version = "devel"

// leaderElectionID returns the Lease name of the controller called name. Shards of one
// controller (each with its own --watch-label-selector) reconcile different objects, so each
// needs a Lease of its own: the selector's digest is part of the name when one is set.
func leaderElectionID(name, selector string) string {
	selector = strings.TrimSpace(selector)
	if selector == "" {
		return name + "-leader-election"
	}
	sum := sha256.Sum256([]byte(selector))
	return name + "-" + hex.EncodeToString(sum[:])[:10] + "-leader-election"
}
