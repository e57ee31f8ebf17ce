package testenv

import (
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// TestSetLoggerReachesEarlierLoggers: a logger controller-runtime handed out before SetLogger
// (as a manager's or a controller's, derived with names and values) writes to the logger
// SetLogger chose, even after controller-runtime stopped waiting for one.
func TestSetLoggerReachesEarlierLoggers(t *testing.T) {
	early := ctrllog.Log.WithName("controller").WithValues("kind", "Kustomization")
	var lines []string
	SetLogger(funcr.New(func(prefix, args string) { lines = append(lines, prefix+" "+args) }, funcr.Options{}))
	defer SetLogger(funcr.New(func(string, string) {}, funcr.Options{}))

	early.Info("reconciled", "name", "apps")
	if len(lines) != 1 || !strings.Contains(lines[0], "controller") || !strings.Contains(lines[0], `"kind"="Kustomization"`) ||
		!strings.Contains(lines[0], `"name"="apps"`) {
		t.Fatalf("the early logger wrote %q", lines)
	}
}
