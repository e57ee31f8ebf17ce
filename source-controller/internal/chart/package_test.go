package chart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	hchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"sigs.k8s.io/yaml"

	"weir.dev/source-controller/internal/helmtest"
)

// TestPackageIsDeterministicAndHelmReadsIt: packaging the same chart twice gives the same
// bytes, and Helm's own loader reads the package back with its values and subcharts.
func TestPackageIsDeterministicAndHelmReadsIt(t *testing.T) {
	tmp := t.TempDir()
	helmtest.NewChart(t, filepath.Join(tmp, "libs"), helmtest.Chart{Name: "lib", Version: "0.1.0"})
	app := helmtest.NewChart(t, tmp, helmtest.Chart{Name: "app", Version: "1.0.0",
		Dependencies: []helmtest.Dependency{{Name: "lib", Version: "0.1.x", Repository: "file://../libs/lib"}}})
	build := func() []byte {
		ch, err := LoadDir(app, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		d := &Dependencies{Root: tmp}
		if added, err := d.Build(context.Background(), ch, app); err != nil || len(added) != 1 || added[0] != "lib@0.1.0" {
			t.Fatalf("Build: %v, %v", added, err)
		}
		var buf bytes.Buffer
		if err := Package(&buf, ch); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b := build(), build()
	if !bytes.Equal(a, b) {
		t.Fatal("two packages of the same chart differ")
	}
	ch, err := loader.LoadArchive(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if ch.Name() != "app" || len(ch.Dependencies()) != 1 || ch.Dependencies()[0].Name() != "lib" {
		t.Fatalf("Helm read %s with dependencies %v", ch.Name(), ch.Dependencies())
	}
	if ch.Values["replicaCount"] != float64(1) {
		t.Fatalf("values %v", ch.Values)
	}
}

func TestMergeValuesLaterFilesWin(t *testing.T) {
	data, values, err := MergeValues([]ValuesFile{
		{Name: "values.yaml", Data: []byte("image:\n  repository: nginx\n  tag: stable\nports: [80]\nkeep: 1\n")},
		{Name: "prod.yaml", Data: []byte("image:\n  tag: \"1.27\"\nports: [443]\nextra: {a: b}\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := yaml.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := "map[extra:map[a:b] image:map[repository:nginx tag:1.27] keep:1 ports:[443]]"
	if s := fmt.Sprint(got); s != want || fmt.Sprint(values) != want {
		t.Fatalf("merged %s, want %s", s, want)
	}
	if _, _, err := MergeValues([]ValuesFile{{Name: "list.yaml", Data: []byte("- a\n- b\n")}}); err == nil || !strings.Contains(err.Error(), "'list.yaml' is not a YAML map") {
		t.Fatalf("a list file: %v", err)
	}
}

func TestWithBuildMetadata(t *testing.T) {
	cases := []struct{ version, meta, want string }{
		{"1.2.3", "abcdef123456", "1.2.3+abcdef123456"},
		{"1.2.3+build.1", "abc", "1.2.3+build.1.abc"},
		{"1.2.3-rc.1", "a_b/c", "1.2.3-rc.1+abc"},
	}
	for _, tc := range cases {
		got, err := WithBuildMetadata(tc.version, tc.meta)
		if err != nil || got != tc.want {
			t.Errorf("WithBuildMetadata(%q, %q) = %q, %v; want %q", tc.version, tc.meta, got, err, tc.want)
		}
	}
	if _, err := WithBuildMetadata("one", "abc"); err == nil {
		t.Error("a version that is not SemVer was accepted")
	}
}

// TestDependencies covers local dependencies inside and outside the source, remote ones
// through the callback with the version Chart.lock pins, and a dependency without repository.
func TestDependencies(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "source")
	helmtest.NewChart(t, filepath.Join(tmp, "outside"), helmtest.Chart{Name: "lib", Version: "0.1.0"})
	helmtest.NewChart(t, filepath.Join(root, "libs"), helmtest.Chart{Name: "lib", Version: "0.1.0"})

	var asked []string
	remote := func(_ context.Context, dep *hchart.Dependency) (*hchart.Chart, error) {
		asked = append(asked, dep.Name+" "+dep.Version+" "+dep.Repository)
		return &hchart.Chart{Metadata: &hchart.Metadata{APIVersion: "v2", Name: dep.Name, Version: "2.3.4"}}, nil
	}
	cases := []struct {
		name  string
		deps  []helmtest.Dependency
		files map[string]string
		want  string
		err   string
	}{
		{name: "local", deps: []helmtest.Dependency{{Name: "lib", Repository: "file://../../libs/lib"}}, want: "[lib@0.1.0]"},
		{name: "local escaping the source", deps: []helmtest.Dependency{{Name: "lib", Repository: "file://../../../outside/lib"}}, err: "leaves the source"},
		{name: "local absolute", deps: []helmtest.Dependency{{Name: "lib", Repository: "file:///etc"}}, err: "must be relative"},
		{name: "local missing", deps: []helmtest.Dependency{{Name: "lib", Repository: "file://../nope"}}, err: "does not exist"},
		{name: "local out of range", deps: []helmtest.Dependency{{Name: "lib", Version: ">=1", Repository: "file://../../libs/lib"}}, err: "version 0.1.0 does not match '>=1'"},
		{name: "remote pinned by Chart.lock", deps: []helmtest.Dependency{{Name: "redis", Version: "2.x", Repository: "https://charts.example.com"}},
			files: map[string]string{"Chart.lock": "dependencies:\n- name: redis\n  version: 2.3.4\n  repository: https://charts.example.com\ndigest: sha256:0\ngenerated: \"2024-01-01T00:00:00Z\"\n"},
			want:  "[redis@2.3.4]"},
		{name: "no repository", deps: []helmtest.Dependency{{Name: "ghost"}}, err: "dependency 'ghost': has no repository"},
		{name: "alias", deps: []helmtest.Dependency{{Name: "x", Repository: "@stable"}}, err: "alias '@stable' is not supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			asked = nil
			dir := helmtest.NewChart(t, filepath.Join(root, strings.ReplaceAll(tc.name, " ", "-")), helmtest.Chart{Name: "app", Version: "1.0.0", Dependencies: tc.deps, Files: tc.files})
			ch, err := LoadDir(dir, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			added, err := (&Dependencies{Root: root, Remote: remote}).Build(context.Background(), ch, dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || fmt.Sprint(added) != tc.want {
				t.Fatalf("added %v, %v; want %s", added, err, tc.want)
			}
			if strings.HasPrefix(tc.name, "remote") && fmt.Sprint(asked) != "[redis 2.3.4 https://charts.example.com]" {
				t.Fatalf("remote asked for %v, want the locked version", asked)
			}
		})
	}
	if _, err := (&Dependencies{Root: root}).Build(context.Background(), &hchart.Chart{Metadata: &hchart.Metadata{Name: "x",
		Dependencies: []*hchart.Dependency{{Name: "y", Repository: "https://x"}}}}, ""); err == nil || errors.Is(err, ErrLimit) {
		t.Fatalf("a remote dependency without Remote: %v", err)
	}
}
