package main

import (
	"strings"
	"testing"
	"time"

	"weir.dev/pkg/testenv"
)

var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func TestBinary(t *testing.T) { testenv.CheckControllerBinary(t, env, ".", []string{"kustomization"}) }

// kustomize-controller reconciles ten Kustomizations at once unless told otherwise.
func TestDefaultConcurrency(t *testing.T) {
	p := testenv.StartProcess(t, testenv.BuildBinary(t, "."), "--help")
	_ = p.Wait(30 * time.Second)
	for _, line := range strings.Split(p.Output(), "\n") {
		if strings.Contains(line, "--concurrent") {
			if !strings.Contains(line, "(default 10)") {
				t.Errorf("--help: %q, want a default of 10", strings.TrimSpace(line))
			}
			return
		}
	}
	t.Errorf("--help does not list --concurrent:\n%s", p.Output())
}
