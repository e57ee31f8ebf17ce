package postrender

import (
	"bytes"
	"strings"
	"testing"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
)

const rendered = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  a: "1"
`

func TestKustomizePatchesAndImages(t *testing.T) {
	pr := New([]helmv1.PostRenderer{
		{Kustomize: &helmv1.Kustomize{
			Patches: []meta.Patch{
				{Patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n"},
				{Patch: `[{"op": "add", "path": "/data/b", "value": "2"}]`, Target: &meta.Selector{Kind: "ConfigMap", Name: "sett.*"}},
			},
			Images: []meta.Image{{Name: "nginx", NewName: "registry.example.com/nginx", NewTag: "1.28"}},
		}},
		{Kustomize: &helmv1.Kustomize{}}, // empty: skipped
		{Kustomize: &helmv1.Kustomize{Patches: []meta.Patch{{Patch: `[{"op": "replace", "path": "/data/b", "value": "3"}]`, Target: &meta.Selector{Kind: "ConfigMap"}}}}},
	}, &meta.CommonMetadata{Labels: map[string]string{"team": "blue"}, Annotations: map[string]string{"example.com/owner": "ops"}})
	if c, ok := pr.(Chain); !ok || len(c) != 3 {
		t.Fatalf("post-renderer %#v, want a chain of three", pr)
	}
	out, err := pr.Run(bytes.NewBufferString(rendered))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"replicas: 3", "image: registry.example.com/nginx:1.28", `b: "3"`, `a: "1"`, "team: blue", "example.com/owner: ops"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestNoPostRenderers(t *testing.T) {
	if New(nil, nil) != nil || New([]helmv1.PostRenderer{{}}, &meta.CommonMetadata{}) != nil {
		t.Fatal("no post-renderer configured must give nil, so Helm skips post-rendering")
	}
}

func TestKustomizeBadPatch(t *testing.T) {
	pr := New([]helmv1.PostRenderer{{Kustomize: &helmv1.Kustomize{Patches: []meta.Patch{
		{Patch: `[{"op": "replace", "path": "/spec/missing/x", "value": 1}]`, Target: &meta.Selector{Kind: "Deployment"}},
	}}}}, nil)
	if _, err := pr.Run(bytes.NewBufferString(rendered)); err == nil || !strings.Contains(err.Error(), "kustomize post-renderer") {
		t.Fatalf("error %v, want a kustomize post-renderer error", err)
	}
}

func TestCommonMetadataKeepsSelectors(t *testing.T) {
	in := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n"
	out, err := New(nil, &meta.CommonMetadata{Labels: map[string]string{"team": "blue"}}).Run(bytes.NewBufferString(in))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "team: blue") != 1 {
		t.Fatalf("the label must be on the object only, not on its selector or template:\n%s", out)
	}
}

// A recursive YAML alias kills kustomize's YAML library with a stack overflow, which no
// recover catches: in a chart's output or in a patch it is refused before kustomize reads it.
func TestKustomizeRefusesRecursiveAliases(t *testing.T) {
	patch := meta.Patch{Patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n"}
	for _, tc := range []struct {
		name, manifests, patch, want string
	}{
		{"chart output", rendered + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: loop}\ndata: &d {k: *d}\n", patch.Patch, "the chart's rendered manifests: the YAML alias *d"},
		{"patch", rendered, "apiVersion: apps/v1\nkind: Deployment\nmetadata: &m {name: web, x: *m}\n", "patches[0].patch: the YAML alias *m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := New([]helmv1.PostRenderer{{Kustomize: &helmv1.Kustomize{Patches: []meta.Patch{{Patch: tc.patch}}}}}, nil)
			_, err := pr.Run(bytes.NewBufferString(tc.manifests))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
