package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	repo := write("clusters/repo.yaml", "# the repo\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: repo\nspec:\n  interval: 1m\n  url: https://example.com/repo\n")
	write("clusters/image.yaml", "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  name: p\n")
	wantRepo := "# the repo\napiVersion: source.weir.dev/v1\nkind: GitRepository\nmetadata:\n  name: repo\nspec:\n  interval: 1m\n  url: https://example.com/repo\n"

	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Execute(args, &out, &errOut)
		return code, out.String(), errOut.String()
	}

	// One file that maps, to stdout.
	code, out, errOut := run("migrate", "-f", repo)
	if code != 0 || out != wantRepo || errOut != "" {
		t.Errorf("migrate -f FILE: code %d, out %q, err %q", code, out, errOut)
	}

	// A directory with something that does not map, to -o.
	outDir := filepath.Join(t.TempDir(), "weir")
	code, out, errOut = run("migrate", "-f", filepath.Join(dir, "clusters"), "-o", outDir)
	if code != 1 || out != "" || !strings.Contains(errOut, filepath.Join(dir, "clusters", "image.yaml")+":1: apiVersion image.toolkit.fluxcd.io/v1beta2 (kind ImagePolicy) has no Weir equivalent") {
		t.Errorf("migrate -f DIR -o: code %d, out %q, err %q", code, out, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(outDir, "repo.yaml")); err != nil || string(b) != wantRepo {
		t.Errorf("-o wrote %q, %v", b, err)
	}

	// In place.
	if code, _, errOut = run("migrate", "-f", repo, "--in-place"); code != 0 {
		t.Errorf("migrate --in-place: code %d, err %q", code, errOut)
	}
	if b, _ := os.ReadFile(repo); string(b) != wantRepo {
		t.Errorf("--in-place left %q", b)
	}

	if code, _, errOut = run("migrate", "-f", repo, "--in-place", "-o", outDir); code != 1 || !strings.Contains(errOut, "exclude each other") {
		t.Errorf("-o with --in-place: code %d, err %q", code, errOut)
	}
}
