package build

import (
	"context"
	"fmt"
	"strings"
	"testing"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// benchApp is one app of docs/benchmarks.md: ten ConfigMaps of 1 KiB and a kustomization.yaml.
func benchApp(b *testing.B) (string, *kustomizev1.Kustomization) {
	files := map[string]string{}
	var list strings.Builder
	for i := range 10 {
		name := fmt.Sprintf("cm-%02d", i)
		files["apps/app-000/"+name+".yaml"] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  rev: \"0\"\n  payload: |\n%s",
			name, strings.Repeat("    "+strings.Repeat("x", 59)+"\n", 16))
		fmt.Fprintf(&list, "- %s.yaml\n", name)
	}
	files["apps/app-000/kustomization.yaml"] = "resources:\n" + list.String()
	root := tree(b, files)
	return root, &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: "./apps/app-000", TargetNamespace: "ns-000"}}
}

// BenchmarkBuild is one Kustomization's build of ten ConfigMaps.
func BenchmarkBuild(b *testing.B) {
	root, ks := benchApp(b)
	for b.Loop() {
		if _, err := Build(context.Background(), root, ks, Options{Guarded: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTraceMatches is what a Kustomization whose files did not change pays instead.
func BenchmarkTraceMatches(b *testing.B) {
	root, ks := benchApp(b)
	trace := &Trace{}
	if _, err := Build(context.Background(), root, ks, Options{Guarded: true, Trace: trace}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !trace.Matches(context.Background(), root, ks, Options{}) {
			b.Fatal("no match")
		}
	}
}
