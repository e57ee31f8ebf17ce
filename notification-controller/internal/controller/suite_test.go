package controller_test

import (
	"testing"

	"weir.dev/notification-controller/internal/harness"
	"weir.dev/pkg/testenv"
)

var (
	env    *testenv.Environment
	shared *harness.Manager
)

// TestMain starts the test control plane and one manager with the three reconcilers for the
// whole package; each test starts the servers it needs with its own options.
func TestMain(m *testing.M) { harness.Main(m, &env, &shared) }

// manager returns the package's manager.
func manager(testing.TB) *harness.Manager { return shared }
