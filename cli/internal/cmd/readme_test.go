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

// TestReadmeGettingStarted runs each `weir create` of the README's "Getting started on a
// cluster" with --export and applies what it prints with a server-side dry run, in the order
// the README gives, so the section's commands keep parsing and produce objects the API server
// accepts. (Their becoming Ready is cli/test/e2e's TestCreateBecomesReady; the Slack message
// is cli/test/examples' TestConfigRepo.)
func TestReadmeGettingStarted(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := readmeBlock(t, string(b), "## Getting started on a cluster")
	if n := len(lines); n == 0 || n >= 10 {
		t.Fatalf("the section has %d commands, want from one to nine", n)
	}
	ctx := context.Background()
	ns := env.Namespace(t)
	creates := 0
	for _, line := range lines {
		args := shellWords(t, line)
		if args[0] != "bin/weir" || !containsWord(args, "create") {
			continue
		}
		creates++
		args = append(args[1:], "--export")
		for i := range args {
			if args[i] == "-n" && i+1 < len(args) {
				args[i+1] = ns
			}
		}
		code, out, errOut := weir(t, args...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", line, code, errOut)
			continue
		}
		for _, u := range decodeYAML(t, out) {
			if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("weir"), client.ForceOwnership, client.DryRunAll); err != nil {
				t.Errorf("%s: dry-run apply of %s: %v", line, objects.Ref(u), err)
			}
		}
	}
	if creates < 4 {
		t.Errorf("found %d `bin/weir … create` commands in the section, want the Provider, Alert, source and Kustomization", creates)
	}
}

// readmeBlock returns the commands of the first sh block after heading: each line without its
// trailing comment, blank lines left out.
func readmeBlock(t *testing.T, readme, heading string) []string {
	t.Helper()
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	rest := readme[i:]
	start := strings.Index(rest, "```sh\n")
	if start < 0 {
		t.Fatalf("no sh block after %q", heading)
	}
	rest = rest[start+len("```sh\n"):]
	rest = rest[:strings.Index(rest, "```")]
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		if j := strings.Index(l, " #"); j >= 0 {
			l = l[:j]
		}
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// shellWords splits a command line as sh does for the README's simple commands: single and
// double quotes group, a variable stays as written.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func containsWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}
