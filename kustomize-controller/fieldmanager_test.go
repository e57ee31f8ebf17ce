package main

import "testing"

// The field manager must stay Flux's kustomize-controller's, or clusters migrated from Flux
// keep Flux as a second owner of every field: removals in Git would no longer remove
// anything, and Flux's ownership labels would stay (see TestAdoptFluxObjects).
func TestFieldManagerIsFluxs(t *testing.T) {
	if controllerName != "kustomize-controller" {
		t.Fatalf("field manager %q, want kustomize-controller, the one Flux applied with", controllerName)
	}
}
