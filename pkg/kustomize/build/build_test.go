package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

func tree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: ${COLOR:=blue}
  size: ${SIZE}
`

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.0}]
`

func byKind(objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	return nil
}

func TestBuildGeneratesAndOverlays(t *testing.T) {
	root := tree(t, map[string]string{"apps/web/cm.yaml": configMap, "apps/web/deploy.yaml": deployment, "apps/web/notes.txt": "ignored"})
	ks := &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{
		Path:            "./apps/web",
		TargetNamespace: "prod",
		NamePrefix:      "p-",
		CommonMetadata:  &meta.CommonMetadata{Labels: map[string]string{"team": "web"}},
		Images:          []meta.Image{{Name: "nginx", NewTag: "2.0"}},
		Patches: []meta.Patch{{
			Patch:  `[{"op": "add", "path": "/spec/replicas", "value": 3}]`,
			Target: &meta.Selector{Kind: "Deployment"},
		}},
		PostBuild: &kustomizev1.PostBuild{Substitute: map[string]string{"SIZE": "xl"}},
	}}
	objs, err := Build(context.Background(), root, ks, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("%d objects, want 2", len(objs))
	}
	cm, dep := byKind(objs, "ConfigMap"), byKind(objs, "Deployment")
	if cm.GetNamespace() != "prod" || cm.GetName() != "p-settings" || cm.GetLabels()["team"] != "web" {
		t.Errorf("overlays not applied: %s/%s %v", cm.GetNamespace(), cm.GetName(), cm.GetLabels())
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	if data["color"] != "blue" || data["size"] != "xl" {
		t.Errorf("substitution: %v", data)
	}
	replicas, _, _ := unstructured.NestedFieldNoCopy(dep.Object, "spec", "replicas")
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if fmt.Sprint(replicas) != "3" || containers[0].(map[string]any)["image"] != "nginx:2.0" {
		t.Errorf("patch or image not applied: replicas %d, containers %v", replicas, containers)
	}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string]string
		path   string
		mutate func(*kustomizev1.Kustomization)
		reason string
		want   string
	}{
		{name: "invalid YAML names the file", files: map[string]string{"app/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n"},
			path: "app", reason: kustomizev1.BuildFailedReason, want: "app/bad.yaml: MalformedYAMLError: yaml: line 2"},
		{name: "resource outside the root", files: map[string]string{"app/kustomization.yaml": "resources: [../../etc/passwd]\n"},
			path: "app", reason: kustomizev1.BuildFailedReason, want: "'../../etc/passwd'"},
		{name: "remote base refused", files: map[string]string{"app/kustomization.yaml": "resources: [https://github.com/org/repo//base]\n"},
			path: "app", reason: kustomizev1.BuildFailedReason, want: "github.com"},
		{name: "path leaves the root", files: map[string]string{"a.yaml": configMap}, path: "../x", reason: kustomizev1.BuildFailedReason, want: "leaves the source root"},
		{name: "missing path", files: map[string]string{"a.yaml": configMap}, path: "nope", reason: kustomizev1.BuildFailedReason, want: "spec.path 'nope'"},
		{name: "missing variable", files: map[string]string{"app/cm.yaml": configMap}, path: "app",
			mutate: func(k *kustomizev1.Kustomization) {
				k.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"OTHER": "x"}}
			}, reason: kustomizev1.PostBuildFailedReason, want: "SIZE"},
		{name: "cyclic kustomization", files: map[string]string{"a/kustomization.yaml": "resources: [../b]\n", "b/kustomization.yaml": "resources: [../a]\n"},
			path: "a", reason: kustomizev1.BuildFailedReason, want: "cycle"},
		{name: "billion laughs", files: map[string]string{"app/laughs.yaml": laughs()}, path: "app", reason: kustomizev1.BuildFailedReason, want: "app/laughs.yaml: too many YAML aliases"},
		// Found by FuzzGuard: ten bytes that killed the process with a stack overflow in kyaml.
		{name: "recursive alias", files: map[string]string{"app/loop.yaml": "0: &a {*a}\n"}, path: "app", reason: kustomizev1.BuildFailedReason,
			want: "app/loop.yaml: the YAML alias *a is inside the anchor &a it refers to"},
		{name: "recursive alias in a patch", files: map[string]string{"app/cm.yaml": configMap}, path: "app",
			mutate: func(k *kustomizev1.Kustomization) {
				k.Spec.Patches = []meta.Patch{{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: x, y: *m}\n"}}
			}, reason: kustomizev1.BuildFailedReason, want: "spec.patches[0].patch: the YAML alias *m"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := tree(t, tc.files)
			ks := &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: tc.path}}
			if tc.mutate != nil {
				tc.mutate(ks)
			}
			_, err := Build(context.Background(), root, ks, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			var be *Error
			if !asError(err, &be) || be.Reason != tc.reason {
				t.Errorf("error %v, want reason %s", err, tc.reason)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), root) || strings.Contains(err.Error(), os.TempDir()+"/") {
				t.Errorf("error %q shows the temporary directory", err)
			}
		})
	}
}

// laughs is a YAML alias bomb: each level references the previous one ten times.
func laughs() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, l := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString("  " + l + ": &" + l + " [")
		for i := range 9 {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = l
	}
	return b.String()
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

// TestBuildComponents: spec.components, relative to spec.path, are added to the build; a
// component outside the source root is refused.
func TestBuildComponents(t *testing.T) {
	root := tree(t, map[string]string{
		"apps/web/cm.yaml": configMap,
		"components/ha/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n" +
			"patches:\n- patch: '[{\"op\": \"add\", \"path\": \"/data/ha\", \"value\": \"on\"}]'\n  target: {kind: ConfigMap}\n",
	})
	ks := &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: "./apps/web", Components: []string{"../../components/ha"}}}
	objs, err := Build(context.Background(), root, ks, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedStringMap(byKind(objs, "ConfigMap").Object, "data")
	if data["ha"] != "on" {
		t.Errorf("the component was not applied: %v", data)
	}

	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "kustomization.yaml"), []byte("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(filepath.Join(root, "apps", "web"), outside)
	if err != nil {
		t.Fatal(err)
	}
	ks.Spec.Components = []string{rel}
	_, err = Build(context.Background(), root, ks, Options{})
	if err == nil || !strings.Contains(err.Error(), "is not in or below") || strings.Contains(err.Error(), root) {
		t.Errorf("a component outside the root: got %v, want it refused without naming the temp dir", err)
	}
}
