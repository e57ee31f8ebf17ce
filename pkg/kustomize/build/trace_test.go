package build

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// fleet is a source with a shared base, an overlay using it and an unrelated app.
func fleet() map[string]string {
	return map[string]string{
		"base/kustomization.yaml":     "resources: [deploy.yaml]\n",
		"base/deploy.yaml":            deployment,
		"apps/web/kustomization.yaml": "resources: [../../base, cm.yaml]\nnamePrefix: web-\n",
		"apps/web/cm.yaml":            configMap,
		"apps/plain/cm.yaml":          configMap, // no kustomization.yaml: one is generated
		"apps/other/cm.yaml":          configMap,
		"README.md":                   "fleet\n",
	}
}

func with(files map[string]string, changes map[string]string) map[string]string {
	out := maps.Clone(files)
	for k, v := range changes {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func TestTraceMatches(t *testing.T) {
	ctx := context.Background()
	web := &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: "./apps/web",
		PostBuild: &kustomizev1.PostBuild{Substitute: map[string]string{"SIZE": "m"}}}}
	plain := &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: "apps/plain",
		PostBuild: &kustomizev1.PostBuild{Substitute: map[string]string{"SIZE": "m"}}}}
	traces := map[*kustomizev1.Kustomization]*Trace{web: {}, plain: {}}
	root := tree(t, fleet())
	for ks, trace := range traces {
		if _, err := Build(ctx, root, ks, Options{Trace: trace}); err != nil {
			t.Fatal(err)
		}
		if trace.Len() == 0 || !trace.replayable {
			t.Fatalf("%s: trace of %d calls, replayable %v", ks.Spec.Path, trace.Len(), trace.replayable)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "apps/plain/kustomization.yaml")); err == nil {
		t.Error("the build wrote kustomization.yaml into the source")
	}

	cases := []struct {
		name      string
		changes   map[string]string
		ks        *kustomizev1.Kustomization
		mutate    func(*kustomizev1.Kustomization)
		wantMatch bool
	}{
		{name: "same content elsewhere", ks: web, wantMatch: true},
		{name: "an unrelated app changed", ks: web, changes: map[string]string{"apps/other/cm.yaml": deployment, "README.md": "new\n"}, wantMatch: true},
		{name: "a file of the app changed", ks: web, changes: map[string]string{"apps/web/cm.yaml": configMap + "  extra: x\n"}},
		{name: "the base changed", ks: web, changes: map[string]string{"base/deploy.yaml": deployment + "  replicas: 2\n"}},
		{name: "the base is gone", ks: web, changes: map[string]string{"base/deploy.yaml": "", "base/kustomization.yaml": ""}},
		{name: "the kustomization changed", ks: web, changes: map[string]string{"apps/web/kustomization.yaml": "resources: [../../base, cm.yaml]\nnamePrefix: w-\n"}},
		{name: "the spec changed", ks: web, mutate: func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = "prod" }},
		{name: "a variable changed", ks: web, mutate: func(k *kustomizev1.Kustomization) { k.Spec.PostBuild.Substitute["SIZE"] = "l" }},
		{name: "another Kustomization", ks: web, mutate: func(k *kustomizev1.Kustomization) { k.Name = "other" }},
		{name: "generated: unrelated change", ks: plain, changes: map[string]string{"apps/other/new.yaml": configMap}, wantMatch: true},
		{name: "generated: a file added", ks: plain, changes: map[string]string{"apps/plain/new.yaml": deployment}},
		{name: "generated: a kustomization.yaml added", ks: plain, changes: map[string]string{"apps/plain/kustomization.yaml": "resources: []\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			other := tree(t, with(fleet(), tc.changes))
			ks := tc.ks.DeepCopy()
			if tc.mutate != nil {
				tc.mutate(ks)
			}
			got := traces[tc.ks].Matches(ctx, other, ks, Options{})
			if got != tc.wantMatch {
				t.Fatalf("Matches = %v, want %v", got, tc.wantMatch)
			}
			// Whatever Matches says must be what a build says.
			objs, err := Build(ctx, other, ks, Options{})
			before, err0 := Build(ctx, root, tc.ks, Options{})
			if err0 != nil {
				t.Fatal(err0)
			}
			same := err == nil && fmt.Sprint(asJSON(t, objs)) == fmt.Sprint(asJSON(t, before))
			if tc.wantMatch && !same {
				t.Errorf("Matches said the build is the same, but it is not (error %v)", err)
			}
		})
	}
}

func TestTraceNotReplayable(t *testing.T) {
	ctx := context.Background()
	root := tree(t, fleet())
	ks := &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: "apps/web"}}
	var nilTrace *Trace
	if nilTrace.Matches(ctx, root, ks, Options{}) {
		t.Error("a nil trace matches")
	}
	trace := &Trace{}
	if _, err := Build(ctx, root, ks, Options{Trace: trace, Decrypter: noDecrypter{}}); err != nil {
		t.Fatal(err)
	}
	if trace.Matches(ctx, root, ks, Options{}) {
		t.Error("a build that decrypted is replayable")
	}
}

type noDecrypter struct{}

func (noDecrypter) DecryptGeneratorFiles(string, string) error        { return nil }
func (noDecrypter) DecryptObjects([]*unstructured.Unstructured) error { return nil }
func asJSON(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	b, err := json.Marshal(objs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A kustomization.yaml may load its own OpenAPI schema; the next build must not see it.
func TestOpenAPISchemaDoesNotLeak(t *testing.T) {
	ctx := context.Background()
	crd := "apiVersion: example.com/v1\nkind: Pod2\nmetadata: {name: x}\nspec:\n  containers:\n  - {name: a, image: a:1}\n  - {name: b, image: b:1}\n"
	patch := "apiVersion: example.com/v1\nkind: Pod2\nmetadata: {name: x}\nspec:\n  containers:\n  - {name: b, image: b:2}\n"
	schema := `{"definitions": {"com.example.v1.Pod2": {
  "type": "object",
  "x-kubernetes-group-version-kind": [{"group": "example.com", "kind": "Pod2", "version": "v1"}],
  "properties": {"spec": {"$ref": "#/definitions/io.k8s.api.core.v1.PodSpec"}}}}}`
	root := tree(t, map[string]string{
		"plain/crd.yaml":            crd,
		"plain/patch.yaml":          patch,
		"plain/kustomization.yaml":  "resources: [crd.yaml]\npatches: [{path: patch.yaml}]\n",
		"schema/crd.yaml":           crd,
		"schema/patch.yaml":         patch,
		"schema/schema.json":        schema,
		"schema/kustomization.yaml": "resources: [crd.yaml]\npatches: [{path: patch.yaml}]\nopenapi: {path: schema.json}\n",
	})
	containers := func(path string) int {
		objs, err := Build(ctx, root, &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: path}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		list, _, _ := unstructured.NestedSlice(objs[0].Object, "spec", "containers")
		return len(list)
	}
	if n := containers("plain"); n != 1 {
		t.Fatalf("without a schema the patch replaces the list: %d containers, want 1", n)
	}
	if n := containers("schema"); n != 2 {
		t.Fatalf("with the schema the patch merges by name: %d containers, want 2", n)
	}
	if n := containers("plain"); n != 1 {
		t.Errorf("after a build with its own schema: %d containers, want 1: the schema leaked", n)
	}
}
