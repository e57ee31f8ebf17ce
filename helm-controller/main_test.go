package main

import (
	"testing"

	"weir.dev/pkg/testenv"
)

var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func TestBinary(t *testing.T) { testenv.CheckControllerBinary(t, env, ".", []string{"helmrelease"}) }

// helm-controller reconciles ten HelmReleases at once unless told otherwise.
func TestDefaultConcurrency(t *testing.T) { testenv.CheckFlagDefault(t, ".", "concurrent", "10") }

// TestRetryDelayFlags: transient failures back off from --min-retry-delay to --max-retry-delay.
func TestRetryDelayFlags(t *testing.T) {
	testenv.CheckFlagDefault(t, ".", "min-retry-delay", "750ms")
	testenv.CheckFlagDefault(t, ".", "max-retry-delay", "15m0s")
}
