package tenants

import (
	"testing"

	"weir.dev/cli/internal/local"
	"weir.dev/cli/test/examples/internal/harness"
)

// env is the local Weir, under lockdown, that the package's tests share.
var env *local.Env

func TestMain(m *testing.M) { harness.Main(m, local.Options{Lockdown: true}, &env) }
