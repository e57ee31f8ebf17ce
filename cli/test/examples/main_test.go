package examples

import (
	"testing"

	"weir.dev/cli/internal/local"
	"weir.dev/cli/test/examples/internal/harness"
)

// env is the local Weir the package's tests share; each example uses names of its own.
var env *local.Env

func TestMain(m *testing.M) { harness.Main(m, local.Options{}, &env) }
