package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
)

// TestReadmeGatedProduction applies the YAML of the README's "Staging auto, production gated"
// with a server-side dry run, so its fields keep existing and validating, and runs each weir
// command of the section with --help, so they keep parsing.
func TestReadmeGatedProduction(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "## Staging auto, production gated")
	if i < 0 {
		t.Fatal("the README has no section \"Staging auto, production gated\"")
	}
	text = text[i:]
	start := strings.Index(text, "```yaml\n")
	end := strings.Index(text[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("the section has no yaml block")
	}
	ns := env.Namespace(t)
	docs := decodeYAML(t, text[start+8:start+8+end])
	if len(docs) != 3 {
		t.Fatalf("the yaml block has %d objects, want the two Kustomizations and the Alert", len(docs))
	}
	for _, u := range docs {
		u.SetNamespace(ns)
		if err := env.Client.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("weir"), client.ForceOwnership, client.DryRunAll); err != nil {
			t.Errorf("dry-run apply of %s: %v", objects.Ref(u), err)
		}
	}
	for _, line := range strings.Split(text[:strings.Index(text[1:], "\n## ")+1], "\n") {
		if !strings.HasPrefix(line, "weir ") {
			continue
		}
		args := strings.Fields(strings.SplitN(line, "#", 2)[0])
		if code, _, errOut := weir(t, args[1], args[2], "--help"); code != 0 {
			t.Errorf("%s: %s", line, errOut)
		}
		if args[1] == "reconcile" && !strings.Contains(line, "--override-window") {
			t.Errorf("unexpected reconcile line %q", line)
		}
	}
}
