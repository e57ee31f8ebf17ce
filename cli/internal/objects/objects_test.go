package objects

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func object(kind string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: fields}
	k, err := FindKind(kind)
	if err != nil {
		panic(err)
	}
	u.SetGroupVersionKind(k.GVK())
	u.SetNamespace("apps")
	u.SetName("x")
	return u
}

func TestSourceOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		u      *unstructured.Unstructured
		want   string // Kind/namespace/name, or the error's text
		hasSrc bool
	}{
		{"kustomization", object("Kustomization", map[string]any{"spec": map[string]any{"sourceRef": map[string]any{"kind": "GitRepository", "name": "repo"}}}), "GitRepository/apps/repo", true},
		{"cross-namespace", object("Kustomization", map[string]any{"spec": map[string]any{"sourceRef": map[string]any{"kind": "OCIRepository", "name": "o", "namespace": "shared"}}}), "OCIRepository/shared/o", true},
		{"helmchart", object("HelmChart", map[string]any{"spec": map[string]any{"sourceRef": map[string]any{"kind": "HelmRepository", "name": "charts"}}}), "HelmRepository/apps/charts", true},
		{"helmrelease chartRef", object("HelmRelease", map[string]any{"spec": map[string]any{"chartRef": map[string]any{"kind": "OCIRepository", "name": "c"}}}), "OCIRepository/apps/c", true},
		{"helmrelease chart", object("HelmRelease", map[string]any{"spec": map[string]any{}, "status": map[string]any{"helmChart": "flux/apps-x"}}), "HelmChart/flux/apps-x", true},
		{"helmrelease before its chart", object("HelmRelease", map[string]any{"spec": map[string]any{}}), "has no HelmChart yet", true},
		{"unknown source kind", object("Kustomization", map[string]any{"spec": map[string]any{"sourceRef": map[string]any{"kind": "Bucket", "name": "b"}}}), `unknown kind "Bucket"`, true},
		{"a source has none", object("GitRepository", map[string]any{}), "has no source", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := KindByGVK(tc.u.GroupVersionKind())
			if HasSource(k) != tc.hasSrc {
				t.Errorf("HasSource(%s) = %v", k.Kind, !tc.hasSrc)
			}
			sk, ns, name, err := SourceOf(tc.u)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = sk.Kind + "/" + ns + "/" + name
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("SourceOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseInventoryID(t *testing.T) {
	ns, name, gk, err := ParseInventoryID("apps_web_apps_Deployment")
	if err != nil || ns != "apps" || name != "web" || gk.Group != "apps" || gk.Kind != "Deployment" {
		t.Errorf("got %q %q %v %v", ns, name, gk, err)
	}
	ns, name, gk, err = ParseInventoryID("_weir-system__Namespace")
	if err != nil || ns != "" || name != "weir-system" || gk.Group != "" || gk.Kind != "Namespace" {
		t.Errorf("cluster-scoped: got %q %q %v %v", ns, name, gk, err)
	}
	for _, bad := range []string{"", "a_b_c", "apps__apps_Deployment", "apps_web_apps_"} {
		if _, _, _, err := ParseInventoryID(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
