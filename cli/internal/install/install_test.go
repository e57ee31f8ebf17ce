package install

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func render(t *testing.T, o Options) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Objects(o)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	return nil
}

func args(t *testing.T, d *unstructured.Unstructured) []string {
	t.Helper()
	if d == nil {
		t.Fatal("no such Deployment")
	}
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	a, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
	return a
}

func image(d *unstructured.Unstructured) string {
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	img, _, _ := unstructured.NestedString(cs[0].(map[string]any), "image")
	return img
}

func TestRenderDefaults(t *testing.T) {
	objs := render(t, Options{})
	crds, deployments := 0, 0
	for _, u := range objs {
		if IsCRD(u) {
			crds++
		}
		if u.GetKind() == "Deployment" {
			deployments++
			if u.GetNamespace() != DefaultNamespace {
				t.Errorf("Deployment %s in %q", u.GetName(), u.GetNamespace())
			}
			if img := image(u); img != "weir/"+u.GetName()+":dev" {
				t.Errorf("Deployment %s runs %s", u.GetName(), img)
			}
		}
		if u.GetLabels()[PartOfLabel] != PartOfValue {
			t.Errorf("%s/%s lacks %s", u.GetKind(), u.GetName(), PartOfLabel)
		}
		if _, ok := u.GetLabels()[VersionLabel]; ok {
			t.Errorf("%s/%s has a version label without a version", u.GetKind(), u.GetName())
		}
	}
	if crds != 12 || deployments != 4 {
		t.Errorf("%d CRDs and %d Deployments; want 12 and 4", crds, deployments)
	}
	for _, name := range []string{"weir-view", "weir-edit"} {
		if r := find(objs, "ClusterRole", name); r == nil || r.GetLabels()["rbac.authorization.k8s.io/aggregate-to-edit"] != "true" {
			t.Errorf("ClusterRole %s missing or not aggregated to edit", name)
		}
	}
	if find(objs, "ClusterRoleBinding", "kustomize-controller-cluster-reconciler") == nil {
		t.Error("the base lost kustomize-controller's cluster-admin binding")
	}
}

// TestRenderNamespace checks everything that names the namespace moves with it: RBAC
// subjects, the controllers' addresses (through $(RUNTIME_NAMESPACE)), namespaced objects.
func TestRenderNamespace(t *testing.T) {
	objs := render(t, Options{Namespace: "gitops", Registry: "registry.example:5000/acme/weir", Version: "v1.2.3"})
	if find(objs, "Namespace", "gitops") == nil || find(objs, "Namespace", DefaultNamespace) != nil {
		t.Error("the Namespace object was not renamed")
	}
	bindings := 0
	for _, u := range objs {
		if strings.Contains(u.GetKind(), "Binding") {
			subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
			for _, s := range subjects {
				bindings++
				if ns := s.(map[string]any)["namespace"]; ns != "gitops" {
					t.Errorf("%s/%s binds a ServiceAccount in %v", u.GetKind(), u.GetName(), ns)
				}
			}
		}
		if u.GetNamespace() != "" && u.GetNamespace() != "gitops" {
			t.Errorf("%s/%s is in %s", u.GetKind(), u.GetName(), u.GetNamespace())
		}
		if u.GetLabels()[VersionLabel] != "v1.2.3" {
			t.Errorf("%s/%s lacks the version label", u.GetKind(), u.GetName())
		}
		if u.GetKind() == "Deployment" {
			if img := image(u); img != "registry.example:5000/acme/weir/"+u.GetName()+":v1.2.3" {
				t.Errorf("Deployment %s runs %s", u.GetName(), img)
			}
			for _, a := range args(t, u) {
				if strings.Contains(a, DefaultNamespace) {
					t.Errorf("Deployment %s keeps %q", u.GetName(), a)
				}
			}
		}
	}
	if bindings < 10 {
		t.Errorf("only %d binding subjects", bindings)
	}
	if !slices.Contains(args(t, find(objs, "Deployment", "kustomize-controller")), "--events-addr=http://notification-controller.$(RUNTIME_NAMESPACE).svc.cluster.local./") {
		t.Error("kustomize-controller's --events-addr does not follow the namespace")
	}
}

func TestRenderComponents(t *testing.T) {
	objs := render(t, Options{Components: []string{"lockdown", "sharding", "large"}})
	for _, name := range []string{"kustomize-controller-cluster-reconciler", "helm-controller-cluster-reconciler"} {
		if find(objs, "ClusterRoleBinding", name) != nil {
			t.Errorf("lockdown keeps %s", name)
		}
	}
	for _, name := range []string{"kustomize-controller", "kustomize-controller-shard1", "helm-controller"} {
		a := args(t, find(objs, "Deployment", name))
		for _, want := range []string{"--no-cross-namespace-refs", "--default-service-account=default", "--concurrent=40"} {
			if !slices.Contains(a, want) {
				t.Errorf("%s lacks %s: %v", name, want, a)
			}
		}
	}
	if a := args(t, find(objs, "Deployment", "kustomize-controller")); !slices.Contains(a, "--watch-label-selector=!sharding.weir.dev/key") {
		t.Errorf("the main kustomize-controller does not leave shard1's objects: %v", a)
	}
	shard := find(objs, "Deployment", "kustomize-controller-shard1")
	if !slices.Contains(args(t, shard), "--watch-label-selector=sharding.weir.dev/key=shard1") || shard.GetNamespace() != DefaultNamespace {
		t.Errorf("shard1: %v in %s", args(t, shard), shard.GetNamespace())
	}
	if !slices.Contains(args(t, find(objs, "Deployment", "notification-controller")), "--no-cross-namespace-refs") {
		t.Error("lockdown leaves notification-controller's cross-namespace references open")
	}
	// Components alone, each: the shard follows the namespace and gets the images too.
	objs = render(t, Options{Namespace: "gitops", Version: "v2", Components: []string{"sharding"}})
	shard = find(objs, "Deployment", "kustomize-controller-shard1")
	if shard.GetNamespace() != "gitops" || image(shard) != "weir/kustomize-controller:v2" {
		t.Errorf("shard1 in %s runs %s", shard.GetNamespace(), image(shard))
	}
	if find(objs, "ClusterRoleBinding", "kustomize-controller-cluster-reconciler") == nil {
		t.Error("sharding alone removed the cluster-admin binding")
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		o    Options
		want string
	}{
		{Options{Namespace: "Gitops"}, "--namespace"},
		{Options{Registry: "ghcr.io/acme/weir:v1"}, "has a tag"},
		{Options{Registry: "ghcr.io/acme/weir@sha256:abc"}, "has a digest"},
		{Options{Registry: "https://ghcr.io/acme"}, "without a scheme"},
		{Options{Registry: "ghcr.io/Acme"}, "lowercase"},
		{Options{Registry: "bad host/x"}, "not a registry host"},
		{Options{Version: "-v1"}, "not an image tag"},
		{Options{Version: "v1/2"}, "not an image tag"},
		{Options{Components: []string{"nope"}}, "no component \"nope\""},
	}
	for _, tc := range cases {
		_, err := Render(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	for _, ok := range []Options{
		{Registry: "localhost:5000"}, {Registry: "127.0.0.1:5000/weir"}, {Registry: "ghcr.io/acme/weir", Version: "v0.1.0-rc.1_2"},
	} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}
