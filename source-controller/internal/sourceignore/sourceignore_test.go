package sourceignore

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMatcher(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("apps/.sourceignore", "secret-*.yaml\n")
	write(".sourceignore", "/docs/\n")
	spec := "*.md\n!logo.png\n!.git/\n"

	m, err := New(root, &spec)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		dir  bool
		want bool
	}{
		{"apps/deploy.yaml", false, true},
		{".github", true, false},              // default CI exclusion
		{"charts/app.tgz", false, false},      // default archive exclusion
		{"logo.png", false, true},             // default re-included by spec.ignore
		{"other.png", false, false},           // default still applies
		{"README.md", false, false},           // spec.ignore
		{"apps/secret-db.yaml", false, false}, // .sourceignore in apps/
		{"secret-db.yaml", false, true},       // ... scoped to apps/
		{"docs", true, false},                 // root .sourceignore
		{"apps/docs", true, true},             // anchored to the root
		{".git", true, false},                 // VCS always, even against !.git/
		{".gitmodules", false, false},
	}
	for _, tc := range cases {
		if got := m.Include(tc.path, tc.dir); got != tc.want {
			t.Errorf("Include(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}

	// Without spec.ignore the defaults hold everywhere.
	m, err = New(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Include("logo.png", false) || !m.Include("README.md", false) {
		t.Errorf("defaults without spec.ignore: logo.png included=%v, README.md included=%v",
			m.Include("logo.png", false), m.Include("README.md", false))
	}
}
