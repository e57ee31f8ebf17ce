package manifest

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestParseRef(t *testing.T) {
	sources := refSpec{flag: "source", kinds: []string{"GitRepository", "OCIRepository"}, def: "GitRepository"}
	anyKind := refSpec{flag: "health-check"}
	events := refSpec{flag: "event-source", kinds: []string{"Kustomization"}, wildcard: true}
	local := refSpec{flag: "values-from", kinds: []string{"ConfigMap", "Secret"}, noNamespace: true}
	for _, tc := range []struct {
		spec  refSpec
		value string
		want  Ref
		err   string
	}{
		{sources, "app", Ref{Kind: "GitRepository", Name: "app"}, ""},
		{sources, "GitRepository/app.flux-system", Ref{Kind: "GitRepository", Name: "app", Namespace: "flux-system"}, ""},
		{sources, "ocirepo/app", Ref{Kind: "OCIRepository", Name: "app"}, ""},
		{sources, "gitrepository/my.app.ns", Ref{Kind: "GitRepository", Name: "my.app", Namespace: "ns"}, ""},
		{sources, "Bucket/app", Ref{}, `kind "Bucket" is not one of GitRepository, OCIRepository`},
		{sources, "GitRepository/", Ref{}, "no name"},
		{sources, "GitRepository/App", Ref{}, `name "App"`},
		{sources, "app.Bad_NS", Ref{}, `namespace "Bad_NS"`},
		{anyKind, "Deployment/web.apps", Ref{Kind: "Deployment", Name: "web", Namespace: "apps"}, ""},
		{anyKind, "web", Ref{}, "no kind"},
		{events, "Kustomization/*", Ref{Kind: "Kustomization", Name: "*"}, ""},
		{sources, "GitRepository/*", Ref{}, `name "*"`},
		{local, "Secret/values.v1", Ref{Kind: "Secret", Name: "values.v1"}, ""},
	} {
		got, err := parseRef(tc.spec, tc.value)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--"+tc.spec.flag) {
				t.Errorf("%q: error %v, want one naming --%s and %q", tc.value, err, tc.spec.flag, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.value, got, err, tc.want)
		}
	}
}

func TestCleanKeepsOnlyIntent(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.weir.dev/v1", "kind": "GitRepository",
		"metadata": map[string]any{
			"name": "app", "namespace": "apps", "uid": "1", "resourceVersion": "2", "generation": int64(3),
			"creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": []any{map[string]any{"manager": "weir"}},
			"finalizers": []any{"weir.dev/finalizer"}, "ownerReferences": []any{map[string]any{"kind": "X"}},
			"labels":      map[string]any{"team": "a"},
			"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": "{}", "reconcile.weir.dev/requestedAt": "now"},
		},
		"spec":   map[string]any{"url": "https://example.com"},
		"status": map[string]any{"observedGeneration": int64(3)},
	}}
	got := Clean(u).Object
	want := map[string]any{
		"apiVersion": "source.weir.dev/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "app", "namespace": "apps", "labels": map[string]any{"team": "a"}},
		"spec":     map[string]any{"url": "https://example.com"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Clean = %v\nwant %v", got, want)
	}
	if _, has := u.Object["status"]; !has {
		t.Error("Clean changed its argument")
	}
}

func TestMergeValues(t *testing.T) {
	got := mergeMaps(mergeMaps(nil, map[string]any{"a": map[string]any{"b": 1, "c": 2}, "list": []any{1}}),
		map[string]any{"a": map[string]any{"c": 3}, "list": []any{2}})
	want := map[string]any{"a": map[string]any{"b": 1, "c": 3}, "list": []any{2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged %v, want %v", got, want)
	}
}
