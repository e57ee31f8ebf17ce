package build

import (
	"context"
	"maps"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// TestBuildOrigins: every built object names the file and line of its document, through bases,
// name prefixes and generators, and the origin annotation kustomize used does not reach the
// objects.
func TestBuildOrigins(t *testing.T) {
	root := tree(t, map[string]string{
		"apps/web/kustomization.yaml": "resources: [deploy.yaml, ../base]\nnamePrefix: p-\n" +
			"configMapGenerator:\n- name: other\n  literals: [a=b]\n- name: settings\n  literals: [c=d]\n",
		"apps/web/deploy.yaml": "# the web app\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n---\n" +
			"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n" +
			"spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx:1.0}]\n",
		"apps/base/kustomization.yaml": "resources: [cm.yaml]\n",
		"apps/base/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n",
		"plain/a.yaml":                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {x: y}\n",
	})
	for _, tc := range []struct {
		path string
		want map[string]string
	}{
		{"apps/web", map[string]string{
			"Service/web/p-api":    "apps/web/deploy.yaml:2",
			"Deployment/web/p-api": "apps/web/deploy.yaml:7",
			"ConfigMap/web/p-base": "apps/base/cm.yaml:1",
		}},
		{"plain", map[string]string{"ConfigMap/web/a": "plain/a.yaml:1"}},
	} {
		ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "o", Namespace: "web"},
			Spec: kustomizev1.KustomizationSpec{Path: tc.path, TargetNamespace: "web"}}
		origins := Origins{}
		objs, err := Build(context.Background(), root, ks, Options{Origins: origins})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if _, ok := o.GetAnnotations()[originAnnotation]; ok {
				t.Errorf("%s: the origin annotation leaks onto the object", ObjectKey(o))
			}
		}
		got := maps.Clone(origins)
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: origin %q, want %q", k, got[k], v)
			}
			delete(got, k)
		}
		if tc.path == "apps/web" {
			// The generated ConfigMaps name the generator entry of the kustomization file.
			for _, o := range objs {
				if o.GetKind() != "ConfigMap" || o.GetName() == "p-base" {
					continue
				}
				want := "apps/web/kustomization.yaml:4"
				if o.GetName()[:len("p-settings")] == "p-settings" {
					want = "apps/web/kustomization.yaml:6"
				}
				if origins.Of(o) != want {
					t.Errorf("%s: origin %q, want %q", ObjectKey(o), origins.Of(o), want)
				}
				delete(got, ObjectKey(o))
			}
		}
		if len(got) > 0 {
			t.Errorf("unexpected origins %v", got)
		}
		if tc.path == "plain" && objs[0].GetAnnotations()["x"] != "y" {
			t.Errorf("annotations %v, want x: y kept", objs[0].GetAnnotations())
		}
	}
}

// TestBuildOriginsLeaveKustomizationAlone: a kustomization.yaml that asks for origin annotations
// itself keeps them; a malformed one fails as kustomize reports it.
func TestBuildOriginsLeaveKustomizationAlone(t *testing.T) {
	root := tree(t, map[string]string{
		"asks/kustomization.yaml": "resources: [a.yaml]\nbuildMetadata: [originAnnotations]\n",
		"asks/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"bad/kustomization.yaml":  "resources: [a.yaml\n",
		"bad/a.yaml":              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
	})
	origins := Origins{}
	objs, err := Build(context.Background(), root, &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: "asks"}}, Options{Origins: origins})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := objs[0].GetAnnotations()[originAnnotation]; !ok || origins.Of(objs[0]) != "asks/a.yaml:1" {
		t.Errorf("annotations %v, origin %q: the annotation asked for must stay", objs[0].GetAnnotations(), origins.Of(objs[0]))
	}
	_, err = Build(context.Background(), root, &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: "bad"}}, Options{Origins: Origins{}})
	if err == nil || !strings.Contains(err.Error(), "kustomization.yaml") {
		t.Errorf("malformed kustomization.yaml: %v", err)
	}
}
