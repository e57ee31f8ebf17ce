package build

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// FuzzGuard writes arbitrary bytes as a manifest and runs Guard over it. Whatever Guard lets
// through must be cheap to expand: every document it accepts expands, aliases followed, to at
// most a fixed multiple of the file's size, so kustomize never inflates a "billion laughs"
// document. A refusal must name the file.
func FuzzGuard(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n"))
	f.Add([]byte("a: &a [x, y]\nb: *a\nc: {<<: *a}\n---\nkind: List\n"))
	f.Add([]byte("base: &b {k: v}\nuse:\n  <<: *b\n  extra: 1\n"))
	f.Add([]byte(`{"apiVersion": "v1", "kind": "Secret", "data": {"k": "*"}}`))
	f.Add([]byte("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" +
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n" +
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("ok: 1\n---\n: : [*x\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, "doc.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := Guard(root)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "doc.yaml: ") {
				t.Fatalf("refusal does not name the file: %v", err)
			}
			return
		}
		bound := 100*len(data) + 10_000
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) || err != nil {
				return // syntax errors are kustomize's to report
			}
			if n := expanded(&doc, bound+1); n > bound {
				t.Fatalf("Guard accepted a document that expands to more than %d nodes from %d bytes", bound, len(data))
			}
		}
	})
}

// expanded counts the nodes of n with every alias replaced by what it refers to, stopping
// once the count passes limit.
func expanded(n *yaml.Node, limit int) int {
	count := 0
	var walk func(*yaml.Node, int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || count > limit || depth > 10_000 {
			return
		}
		count++
		if n.Kind == yaml.AliasNode {
			walk(n.Alias, depth+1)
			return
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return count
}
