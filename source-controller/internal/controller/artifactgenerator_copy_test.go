package controller

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	sourcev1 "weir.dev/api/source/v1"
)

// copyTestRoot writes files into a fresh directory and opens a root at it.
func copyTestRoot(t *testing.T, files map[string]string) *os.Root {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// rootFiles returns the files under r with their contents.
func rootFiles(t *testing.T, r *os.Root) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(r.FS(), p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBuildArtifact: Flux's documented `cp`-like copy rules, excludes, ordering, Merge, and the
// errors that name the artifact and the operation.
func TestBuildArtifact(t *testing.T) {
	src := map[string]string{
		"config.yaml":             "a: 1\n",
		"configs/one.yaml":        "one",
		"configs/two.yaml":        "two",
		"configs/notes.md":        "md",
		"configs/sub/three.yaml":  "three",
		"configs/testdata/x.yaml": "x",
		"chart/values.yaml":       "image: {repo: app, tag: v1}\nports: [80]\n",
		"values-prod.yaml":        "image: {tag: v2}\nports: [443]\n",
	}
	op := func(from, to string, exclude ...string) sourcev1.CopyOperation {
		return sourcev1.CopyOperation{From: from, To: to, Exclude: exclude}
	}
	for _, tc := range []struct {
		name   string
		ops    []sourcev1.CopyOperation
		want   []string // files of the artifact, or the error's reason and message
		reason string
	}{
		{name: "file to a file", ops: []sourcev1.CopyOperation{op("@src/config.yaml", "@artifact/apps/app.yaml")}, want: []string{"apps/app.yaml"}},
		{name: "file into a directory", ops: []sourcev1.CopyOperation{op("@src/config.yaml", "@artifact/apps/")}, want: []string{"apps/config.yaml"}},
		{name: "glob into a directory", ops: []sourcev1.CopyOperation{op("@src/configs/*.yaml", "@artifact/apps/")}, want: []string{"apps/one.yaml", "apps/two.yaml"}},
		{name: "directory as a subdirectory", ops: []sourcev1.CopyOperation{op("@src/configs/", "@artifact/apps/", "**/testdata/**", "*.md")},
			want: []string{"apps/configs/one.yaml", "apps/configs/sub/three.yaml", "apps/configs/two.yaml"}},
		{name: "contents recursively", ops: []sourcev1.CopyOperation{op("@src/configs/**", "@artifact/", "*.md", "**/testdata/**")},
			want: []string{"one.yaml", "sub/three.yaml", "two.yaml"}},
		{name: "recursive glob keeps the structure below the fixed prefix", ops: []sourcev1.CopyOperation{op("@src/configs/**/three.yaml", "@artifact/x/")},
			want: []string{"x/sub/three.yaml"}},
		{name: "the whole source", ops: []sourcev1.CopyOperation{op("@src/**", "@artifact/", "configs/**", "chart/**", "*.md")},
			want: []string{"config.yaml", "values-prod.yaml"}},
		{name: "no match", ops: []sourcev1.CopyOperation{op("@src/infra/**", "@artifact/")}, reason: sourcev1.CopyNoMatchReason,
			want: []string{"artifact 'out': spec.artifacts[name=out].copy[0] (from '@src/infra/**' to '@artifact/'): '@src/infra/**' matches no file of the source"}},
		{name: "everything excluded", ops: []sourcev1.CopyOperation{op("@src/configs/*.md", "@artifact/", "*.md")}, reason: sourcev1.CopyNoMatchReason,
			want: []string{"copy[0]", "matches no file"}},
		{name: "unknown alias", ops: []sourcev1.CopyOperation{op("@other/a", "@artifact/")}, reason: sourcev1.UnknownAliasReason,
			want: []string{"alias '@other' is not in spec.sources"}},
		{name: "leaving the source", ops: []sourcev1.CopyOperation{op("@src/../etc/passwd", "@artifact/")}, reason: sourcev1.CopyFailedReason,
			want: []string{"'from' must be a relative path without '..'"}},
		{name: "leaving the artifact", ops: []sourcev1.CopyOperation{op("@src/config.yaml", "@artifact/../x")}, reason: sourcev1.CopyFailedReason,
			want: []string{"'to' must be a relative path"}},
		{name: "a later copy overwrites", ops: []sourcev1.CopyOperation{op("@src/configs/one.yaml", "@artifact/f"), op("@src/configs/two.yaml", "@artifact/f")},
			want: []string{"f=two"}},
		{name: "merge as Helm merges values", ops: []sourcev1.CopyOperation{op("@src/chart/", "@artifact/"),
			{From: "@src/values-prod.yaml", To: "@artifact/chart/values.yaml", Strategy: sourcev1.CopyMerge}},
			want: []string{"chart/values.yaml=image:\n  repo: app\n  tag: v2\nports:\n- 443\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := copyTestRoot(t, nil)
			err := buildArtifact(sourcev1.OutputArtifact{Name: "out", Copy: tc.ops}, map[string]*os.Root{"src": copyTestRoot(t, src)}, dst)
			if tc.reason != "" {
				var ce *copyError
				if !errors.As(err, &ce) || ce.reason != tc.reason {
					t.Fatalf("error %v, want reason %s", err, tc.reason)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := rootFiles(t, dst)
			if strings.Contains(tc.want[0], "=") {
				name, content, _ := strings.Cut(tc.want[0], "=")
				if got[name] != content {
					t.Errorf("%s = %q, want %q", name, got[name], content)
				}
				return
			}
			var names []string
			for n := range got {
				names = append(names, n)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.want) {
				t.Errorf("files %v, want %v", names, tc.want)
			}
		})
	}
}

// TestContentHash: the same files give the same hash whatever the order they were written in;
// a changed byte or name changes it.
func TestContentHash(t *testing.T) {
	hash := func(files map[string]string) string {
		h, err := contentHash(copyTestRoot(t, files))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	a := hash(map[string]string{"a/x.yaml": "x", "b.yaml": "b"})
	if b := hash(map[string]string{"b.yaml": "b", "a/x.yaml": "x"}); a != b {
		t.Errorf("same files, different hashes")
	}
	if b := hash(map[string]string{"a/x.yaml": "y", "b.yaml": "b"}); a == b {
		t.Errorf("a changed file kept the hash")
	}
	if b := hash(map[string]string{"a/y.yaml": "x", "b.yaml": "b"}); a == b {
		t.Errorf("a renamed file kept the hash")
	}
}
