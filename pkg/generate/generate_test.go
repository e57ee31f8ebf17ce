package generate

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	setsv1 "weir.dev/api/sets/v1"
)

// tree writes files under a temporary directory and opens it as a root.
func tree(t testing.TB, files map[string]string) *os.Root {
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
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

func names(ins []Input) string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Name)
	}
	return strings.Join(out, ",")
}

func TestDirectoriesMatchOneSegmentPerStar(t *testing.T) {
	root := tree(t, map[string]string{
		"teams/a/production/app.yaml": "x", "teams/b/production/app.yaml": "x",
		"teams/b/staging/app.yaml": "x", "teams/c/production": "a file, not a directory",
		"teams/d/x/production/app.yaml": "x", "teams/old/production/app.yaml": "x",
	})
	ins, err := Inputs([]setsv1.Generator{{Directories: &setsv1.PathGenerator{
		Paths: []string{"teams/*/production"}, Exclude: []string{"teams/old/*"}}}}, root)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(ins); got != "teams/a/production,teams/b/production" {
		t.Fatalf("inputs %s", got)
	}
	v := ins[1].Values
	if v["basename"] != "production" || v["segments"].([]any)[1] != "b" || v["path"] != "teams/b/production" {
		t.Fatalf("values %v", v)
	}
}

func TestFilesAndMatrix(t *testing.T) {
	root := tree(t, map[string]string{
		"clusters/eu.yaml":   "region: eu\nsize: 3\n",
		"clusters/us.json":   `[{"region": "us-east"}, {"region": "us-west"}]`,
		"clusters/notes.txt": "ignored",
	})
	list := []apiextensionsv1.JSON{{Raw: []byte(`{"name":"web","port":80}`)}, {Raw: []byte(`{"name":"api"}`)}}
	ins, err := Inputs([]setsv1.Generator{{Matrix: &setsv1.MatrixGenerator{Generators: []setsv1.InputGenerator{
		{List: list}, {Files: &setsv1.PathGenerator{Paths: []string{"clusters/*"}}},
	}}}}, root)
	if err != nil {
		t.Fatal(err)
	}
	want := "api+clusters/eu.yaml,api+clusters/us.json[0],api+clusters/us.json[1],web+clusters/eu.yaml,web+clusters/us.json[0],web+clusters/us.json[1]"
	if got := names(ins); got != want {
		t.Fatalf("inputs %s", got)
	}
	if v := ins[5].Values; v["name"] != "web" || v["region"] != "us-west" || v["path"] != "clusters/us.json" {
		t.Fatalf("values %v", v)
	}
}

func TestInputErrors(t *testing.T) {
	root := tree(t, map[string]string{"f/bad.yaml": "a: [", "f/scalar.yaml": "3"})
	for name, tc := range map[string]struct {
		gens []setsv1.Generator
		root *os.Root
		want string
	}{
		"no source":  {gens: []setsv1.Generator{{Directories: &setsv1.PathGenerator{Paths: []string{"*"}}}}, want: "spec.generators[0].directories: needs spec.sourceRef"},
		"bad file":   {gens: []setsv1.Generator{{Files: &setsv1.PathGenerator{Paths: []string{"f/bad.yaml"}}}}, root: root, want: "f/bad.yaml"},
		"scalar":     {gens: []setsv1.Generator{{Files: &setsv1.PathGenerator{Paths: []string{"f/scalar.yaml"}}}}, root: root, want: "neither an object"},
		"escape":     {gens: []setsv1.Generator{{Directories: &setsv1.PathGenerator{Paths: []string{"../*"}}}}, root: root, want: "not a relative path"},
		"duplicates": {gens: []setsv1.Generator{{List: []apiextensionsv1.JSON{{Raw: []byte(`{"name":"a"}`)}, {Raw: []byte(`{"name":"a"}`)}}}}, want: `two inputs are named "a"`},
		"not object": {gens: []setsv1.Generator{{List: []apiextensionsv1.JSON{{Raw: []byte(`"a"`)}}}}, want: "spec.generators[0].list[0]: not a JSON object"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Inputs(tc.gens, tc.root)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	_, err := Parse(`apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .name | lower }}
  labels: {{ .labels | default (dict) | toYaml | nindent 4 }}
data:
  port: {{ .port | default 8080 | quote }}
---
`)
	if err == nil {
		t.Fatal("dict is not in the function set; parsing must fail")
	}
	tpl, err := Parse(`apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .name | lower }}
  labels: {{ index . "labels" | default "{}" | toYaml | nindent 4 }}
data:
  port: {{ index . "port" | default 8080 | quote }}
  team: {{ index .segments 1 | upper }}
---
`)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := tpl.Render(Input{Name: "x", Values: map[string]any{"name": "Web", "segments": []any{"teams", "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].GetName() != "web" || objs[0].Object["data"].(map[string]any)["port"] != "8080" ||
		objs[0].Object["data"].(map[string]any)["team"] != "A" {
		t.Fatalf("objects %v", objs)
	}
}

func TestRenderErrorsNameInputAndLine(t *testing.T) {
	for name, tc := range map[string]struct{ tpl, want string }{
		"missing key":  {"kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: {{ .nmae }}\n", `input teams/a: template: spec.template:4:11: executing "spec.template" at <.nmae>: map has no entry for key "nmae"`},
		"invalid yaml": {"kind: ConfigMap\napiVersion: v1\nmetadata: {name: {{ .name }}\n", "input teams/a: rendered document 1 is not valid YAML"},
		"no name":      {"kind: ConfigMap\napiVersion: v1\n---\nkind: ConfigMap\n", "input teams/a: rendered document 1: apiVersion, kind and metadata.name are required"},
		"required":     {`{{ required "team is required" .team }}`, "team is required"},
		"too large":    {"{{ range 10000000 }}xxxxxxxxxxxxxxxxxxxxxxxx{{ end }}", "renders more than 262144 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			tpl, err := Parse(tc.tpl)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpl.Render(Input{Name: "teams/a", Values: map[string]any{"name": "a", "team": ""}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Parse("a: {{ .x \n"); err == nil || !strings.Contains(err.Error(), "spec.template:1") {
		t.Fatalf("parse error %v does not name the line", err)
	}
}

// BenchmarkRender1000: generating 1,000 inputs and rendering one object each.
func BenchmarkRender1000(b *testing.B) {
	items := make([]apiextensionsv1.JSON, 1000)
	for i := range items {
		items[i] = apiextensionsv1.JSON{Raw: []byte(`{"name":"app-` + strconv.Itoa(i) + `","value":"1"}`)}
	}
	tpl, err := Parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .name }}\ndata:\n  value: {{ .value | quote }}\n")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for range b.N {
		ins, err := Inputs([]setsv1.Generator{{List: items}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, in := range ins {
			if _, err := tpl.Render(in); err != nil {
				b.Fatal(err)
			}
		}
	}
}
