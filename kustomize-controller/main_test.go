package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"weir.dev/pkg/testenv"
)

var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func TestBinary(t *testing.T) { testenv.CheckControllerBinary(t, env, ".", []string{"kustomization"}) }

// kustomize-controller reconciles ten Kustomizations at once unless told otherwise.
func TestDefaultConcurrency(t *testing.T) { testenv.CheckFlagDefault(t, ".", "concurrent", "10") }

// Remote bases are off unless --allow-remote-bases; --no-remote-bases, the default now, is
// still accepted, but not with --allow-remote-bases.
func TestRemoteBasesFlags(t *testing.T) {
	for args, want := range map[string]string{
		"":                                       "off",
		"--allow-remote-bases":                   "on",
		"--no-remote-bases":                      "off",
		"--allow-remote-bases --no-remote-bases": "error",
	} {
		var o options
		fs := pflag.NewFlagSet("kustomize-controller", pflag.ContinueOnError)
		o.bindFlags(fs)
		if err := fs.Parse(strings.Fields(args)); err != nil {
			t.Fatal(err)
		}
		got := "off"
		if o.allowRemoteBases {
			got = "on"
		}
		if err := o.validate(); err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("%q: %s, want %s", args, got, want)
		}
	}
}

// Objects another owner still applies are refused unless --allow-shared-objects.
func TestSharedObjectsFlag(t *testing.T) {
	for args, want := range map[string]bool{"": false, "--allow-shared-objects": true} {
		var o options
		fs := pflag.NewFlagSet("kustomize-controller", pflag.ContinueOnError)
		o.bindFlags(fs)
		if err := fs.Parse(strings.Fields(args)); err != nil {
			t.Fatal(err)
		}
		if o.allowShared != want {
			t.Errorf("%q: allowShared %v, want %v", args, o.allowShared, want)
		}
	}
}

// TestRetryDelayFlags: transient failures back off from --min-retry-delay to --max-retry-delay.
func TestRetryDelayFlags(t *testing.T) {
	testenv.CheckFlagDefault(t, ".", "min-retry-delay", "750ms")
	testenv.CheckFlagDefault(t, ".", "max-retry-delay", "15m0s")
}
