package main

import (
	"testing"

	"weir.dev/pkg/testenv"
)

var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// The listeners bind ephemeral loopback ports, so parallel test binaries never collide.
func TestBinary(t *testing.T) {
	testenv.CheckControllerBinary(t, env, ".", []string{"provider", "alert", "receiver"}, "--events-listen-addr=127.0.0.1:0", "--receiver-addr=127.0.0.1:0")
}
