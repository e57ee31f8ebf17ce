package main

import (
	"testing"

	"weir.dev/pkg/testenv"
)

var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func TestBinary(t *testing.T) { testenv.CheckControllerBinary(t, env, ".", []string{"kustomization"}) }

// kustomize-controller reconciles ten Kustomizations at once unless told otherwise.
func TestDefaultConcurrency(t *testing.T) { testenv.CheckFlagDefault(t, ".", "concurrent", "10") }
