package migrate

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzRewrite migrates arbitrary YAML streams. When the input is YAML, the output must be
// YAML too, with the same documents and the same shape, differing only in scalars that named
// Flux; and every rewrite migrate decided on must be in the text: migrating the output again
// finds nothing left to rewrite.
func FuzzRewrite(f *testing.F) {
	for _, name := range []string{"sources.yaml", "alerts.yaml", "image.yaml", "apps/kustomization.yaml", "apps/release.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "flux", filepath.FromSlash(name)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("{apiVersion: source.toolkit.fluxcd.io/v1, kind: GitRepository, metadata: {annotations: {reconcile.fluxcd.io/requestedAt: now}}}\n"))
	f.Add([]byte("apiVersion: \"source.toolkit.fluxcd.io/v1\"\nkind: 'HelmChart'\n---\napiVersion: 'helm.toolkit.fluxcd.io/v2'\nkind: HelmRelease\n"))
	f.Add([]byte("apiVersion: \"source.toolkit.fluxcd.io\\/v1\"\nkind: GitRepository\n"))
	f.Add([]byte("apiVersion: &v kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  sourceRef: {apiVersion: *v, kind: Kustomization}\n"))
	f.Add([]byte("apiVersion:\n  source.toolkit.fluxcd.io/v1\nkind: GitRepository # source.toolkit.fluxcd.io/v1\n"))
	f.Add([]byte("metadata:\n  labels: {\"sharding.fluxcd.io/key\": a, sharding.fluxcd.io/key: b}\n"))
	f.Add([]byte("kind: Kustomization\n# ü\napiVersion: kustomize.toolkit.fluxcd.io/v1 # ü\nmetadata: {name: ü, labels: {ä: ö, sharding.fluxcd.io/key: x}}\n"))
	f.Add([]byte("a: [: b\n"))

	f.Fuzz(func(t *testing.T, src []byte) {
		in, ok := decodeAll(src)
		out, findings := Rewrite("f.yaml", src)
		if !ok {
			if !bytes.Equal(out, src) {
				t.Fatal("a stream that is not YAML was changed")
			}
			return
		}
		for _, fd := range findings {
			if strings.Contains(fd.Message, "not YAML") {
				t.Fatalf("YAML input reported as not YAML: %s", fd)
			}
		}
		got, ok := decodeAll(out)
		if !ok {
			t.Fatalf("the output is not YAML:\n%s", out)
		}
		if len(got) != len(in) {
			t.Fatalf("%d documents in, %d out", len(in), len(got))
		}
		for i := range in {
			sameShape(t, in[i], got[i])
		}
		if edits := pendingEdits(out); len(edits) > 0 {
			t.Fatalf("a rewrite was decided but not made in the text (%q at line %d, column %d):\n%s", edits[0].old, edits[0].line, edits[0].col, out)
		}
	})
}

// decodeAll decodes every document of a YAML stream; ok is false when one does not decode.
func decodeAll(src []byte) (docs []*yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, true
		}
		if err != nil {
			return nil, false
		}
		docs = append(docs, &doc)
	}
}

// pendingEdits returns the edits migrate would make to src.
func pendingEdits(src []byte) []edit {
	r := newRewriter("f.yaml", src)
	docs, _ := decodeAll(src)
	for _, doc := range docs {
		if len(doc.Content) > 0 && doc.Content[0].Kind == yaml.MappingNode {
			r.walk(doc.Content[0], "")
		}
	}
	return r.edits
}

// sameShape fails unless a and b have the same kinds and children, and the scalars that
// differ were Flux names in a.
func sameShape(t *testing.T, a, b *yaml.Node) {
	t.Helper()
	if a.Kind != b.Kind || len(a.Content) != len(b.Content) {
		t.Fatalf("line %d: the node changed shape (kind %v with %d children, now kind %v with %d)", a.Line, a.Kind, len(a.Content), b.Kind, len(b.Content))
	}
	if a.Kind == yaml.ScalarNode && a.Value != b.Value && !strings.Contains(a.Value, "fluxcd.io") {
		t.Fatalf("line %d: %q became %q, which was not a Flux name", a.Line, a.Value, b.Value)
	}
	for i := range a.Content {
		sameShape(t, a.Content[i], b.Content[i])
	}
}
