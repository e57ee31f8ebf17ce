package main

import (
	"context"
	"strings"
	"testing"
)

// TestPushRefusesBadTargetFirst: a registry or version that makes no valid reference is refused
// before anything is built (here the root does not even exist).
func TestPushRefusesBadTargetFirst(t *testing.T) {
	for _, args := range [][]string{
		{"--registry", "ghcr.io/you:v1", "--version", "v1"},
		{"--registry", "ghcr.io/you", "--version", "v1+build"},
		{"--version", "v1"},
	} {
		err := run(context.Background(), "push", append(args, "--root", "/nonexistent"))
		if err == nil || strings.Contains(err.Error(), "nonexistent") {
			t.Errorf("push %v: %v, want the reference refused", args, err)
		}
	}
}

func TestWithoutUserinfo(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:token@github.com/weir/weir.git": "https://github.com/weir/weir.git",
		"https://github.com/weir/weir":                "https://github.com/weir/weir",
		"git@github.com:weir/weir.git":                "git@github.com:weir/weir.git",
		"/srv/git/weir.git":                           "",
		"file:///srv/git/weir.git":                    "",
		"":                                            "",
	} {
		if got := withoutUserinfo(in); got != want {
			t.Errorf("withoutUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
