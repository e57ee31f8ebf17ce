package bootstrap

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"weir.dev/cli/internal/install"
)

func TestFilesAreDeterministic(t *testing.T) {
	l := Layout{Path: "clusters/dev", URL: "https://git.example/fleet.git", Branch: "main", SecretName: SyncName,
		Install: install.Options{Namespace: "weir-system", Version: "v1.2.3", Components: []string{"lockdown"}}}
	a, err := l.Files()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		b, err := l.Files()
		if err != nil {
			t.Fatal(err)
		}
		for p := range a {
			if !bytes.Equal(a[p], b[p]) {
				t.Fatalf("%s differs between two renderings", p)
			}
		}
	}
	sync := string(a["clusters/dev/weir-system/weir-sync.yaml"])
	for _, want := range []string{"kind: GitRepository", "url: https://git.example/fleet.git", "branch: main", "secretRef:\n    name: weir-system",
		"kind: Kustomization", "path: ./clusters/dev", "prune: true", "interval: 10m0s"} {
		if !strings.Contains(sync, want) {
			t.Errorf("weir-sync.yaml lacks %q:\n%s", want, sync)
		}
	}
	if strings.Contains(sync, "wait:") {
		t.Error("the Kustomization waits for the controllers it applies")
	}
	if c := string(a["clusters/dev/weir-system/weir-components.yaml"]); !strings.Contains(c, "weir/kustomize-controller:v1.2.3") || !strings.HasPrefix(c, generatedMark) {
		t.Error("weir-components.yaml is not the pinned rendering with the generated mark")
	}
}

func TestCheckOwner(t *testing.T) {
	l := Layout{Path: "clusters/dev"}
	if err := l.CheckOwner(nil, nil); err != nil {
		t.Errorf("an empty path: %v", err)
	}
	ours := []byte(generatedMark + ": Weir v1\n")
	if err := l.CheckOwner([]string{"clusters/dev/apps.yaml", "clusters/dev/weir-system/weir-sync.yaml"}, ours); err != nil {
		t.Errorf("a bootstrapped path with the user's apps: %v", err)
	}
	err := l.CheckOwner([]string{"clusters/dev/a.yaml", "clusters/dev/weir-system/weir-sync.yaml"}, []byte("kind: GitRepository\n"))
	if err == nil || !strings.Contains(err.Error(), "clusters/dev/a.yaml, clusters/dev/weir-system/weir-sync.yaml") {
		t.Errorf("a foreign weir-sync.yaml: %v", err)
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{"clusters/dev": "clusters/dev", "./clusters/dev/": "clusters/dev"} {
		if got, err := CleanPath(in); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", ".", "/clusters", "../x", "a/../../b", `a\b`} {
		if _, err := CleanPath(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseURL(t *testing.T) {
	for _, ok := range []string{"https://git.example/org/fleet.git", "ssh://git@git.example:2222/org/fleet.git"} {
		if _, err := ParseURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for raw, want := range map[string]string{
		"https://bot:s3cret@git.example/fleet.git": "has a password",
		"https://bot@git.example/fleet.git":        "--username",
		"git@git.example:org/fleet.git":            "not a URL",
		"file:///srv/fleet.git":                    "want an http",
		"https://git.example/":                     "repository path",
	} {
		_, err := ParseURL(raw)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password", raw)
		}
	}
	u, _ := url.Parse("ssh://git:pw@host/x")
	if Redact(u) != "ssh://git@host/x" {
		t.Error(Redact(u))
	}
}
