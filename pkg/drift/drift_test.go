package drift

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/api/meta"
)

func object(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal([]byte(s), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func formatted(paths [][]string) string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = FormatPath(p)
	}
	return strings.Join(out, " ")
}

func TestDifferingPaths(t *testing.T) {
	desired := object(t, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","labels":{"app":"a"},"annotations":{"example.com/x":"1"}},
		"spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"c","image":"nginx"}]}}},"status":{"replicas":1}}`)
	live := object(t, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","uid":"u","labels":{"app":"a","extra":"x"},"annotations":{"example.com/x":"2"}},
		"spec":{"replicas":5.0,"paused":true,"template":{"spec":{"containers":[{"name":"c","image":"nginx:2"}]}}},"status":{"replicas":5}}`)
	got := formatted(DifferingPaths(desired.Object, live.Object))
	want := `.metadata.annotations["example.com/x"] .spec.replicas .spec.template.spec.containers`
	if got != want {
		t.Fatalf("DifferingPaths = %q, want %q", got, want)
	}
	// Numbers from YAML (int) and JSON (float64) are equal; fields only live has are not drift.
	live.Object["spec"].(map[string]any)["replicas"] = float64(2)
	live.Object["spec"].(map[string]any)["template"] = desired.Object["spec"].(map[string]any)["template"]
	live.Object["metadata"].(map[string]any)["annotations"] = map[string]any{"example.com/x": "1"}
	if got := DifferingPaths(desired.Object, live.Object); len(got) != 0 {
		t.Fatalf("equal objects differ at %v", got)
	}
	// A desired field the live object lacks is a difference.
	delete(live.Object["metadata"].(map[string]any), "labels")
	if got := formatted(DifferingPaths(desired.Object, live.Object)); got != ".metadata.labels.app" {
		t.Fatalf("missing label: %q", got)
	}
}

func TestAsStored(t *testing.T) {
	secret := object(t, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"a":"YQ=="},"stringData":{"b":"s3cret"}}`)
	stored := AsStored(secret)
	if _, ok := secret.Object["stringData"]; !ok {
		t.Fatal("AsStored modified its argument")
	}
	want := map[string]any{"a": "YQ==", "b": "czNjcmV0"}
	if !reflect.DeepEqual(stored.Object["data"], want) || stored.Object["stringData"] != nil {
		t.Fatalf("stored %v", stored.Object)
	}
	cm := object(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"stringData":{"b":"x"}}`)
	if AsStored(cm) != cm {
		t.Fatal("a ConfigMap must be returned as is")
	}
	other := object(t, `{"apiVersion":"example.com/v1","kind":"Secret","metadata":{"name":"c"},"stringData":{"b":"x"}}`)
	if AsStored(other) != other {
		t.Fatal("a Secret of another group must be returned as is")
	}
}

func TestManagedFields(t *testing.T) {
	live := &unstructured.Unstructured{Object: map[string]any{}}
	live.SetManagedFields([]metav1.ManagedFieldsEntry{
		{Manager: "helm", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{},"f:template":{}}}`)},
		{Manager: "helm", Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:paused":{}}}`)},
		{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: metav1.NewFieldsV1(`{"f:data":{"f:password":{}}}`)},
		{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsV1: metav1.NewFieldsV1(`{"f:status":{}}`)},
	})
	merged := ManagedFields(live, "")
	if got := strings.Join(merged.Managers(), ","); got != "helm,kubectl-edit" {
		t.Fatalf("managers %s", got)
	}
	if !merged.Owns("helm", []string{"spec", "replicas"}) || !merged.Owns("helm", []string{"spec", "paused"}) {
		t.Fatal("helm's operations must be merged")
	}
	if merged.Owns("helm", []string{"spec", "template", "spec", "containers"}) || merged.Owns("nobody", []string{"spec"}) {
		t.Fatal("ownership needs every segment of the path, and a manager")
	}
	apart := ManagedFields(live, "helm")
	if apart.Owns("helm", []string{"spec", "replicas"}) || !apart.Owns("helm (update)", []string{"spec", "replicas"}) {
		t.Fatal("the applier's updates must be kept apart")
	}
	if got := merged.OwnerOf([]string{"data", "password"}, "helm"); got != "kubectl-edit" {
		t.Fatalf("OwnerOf = %q", got)
	}
	if got := merged.OwnerOf([]string{"data", "password"}, "kubectl-edit"); got != "" {
		t.Fatalf("OwnerOf with the owner excluded = %q", got)
	}
}

func TestFormatPath(t *testing.T) {
	for path, want := range map[string]string{
		"spec/replicas":                  ".spec.replicas",
		"metadata/annotations/a.b~1c":    `.metadata.annotations["a.b/c"]`,
		"data/with space":                `.data["with space"]`,
		"metadata/labels/app.kubernetes": `.metadata.labels["app.kubernetes"]`,
	} {
		segs := strings.Split(strings.ReplaceAll(path, "~1", "\x00"), "/")
		for i := range segs {
			segs[i] = strings.ReplaceAll(segs[i], "\x00", "/")
		}
		if got := FormatPath(segs); got != want {
			t.Errorf("FormatPath(%q) = %s, want %s", path, got, want)
		}
	}
}

func TestRemovePointers(t *testing.T) {
	obj := object(t, `{"metadata":{"annotations":{"a/b":"1","c~d":"2","keep":"3"}},"spec":{"replicas":2,"containers":[{"name":"a","image":"x"},{"name":"b"}]}}`)
	err := RemovePointers(obj, []string{"/spec/replicas", "/metadata/annotations/a~1b", "/metadata/annotations/c~0d",
		"/spec/containers/0/image", "/spec/containers/1", "/spec/missing/deep", "/spec/containers/9"})
	if err != nil {
		t.Fatal(err)
	}
	want := object(t, `{"metadata":{"annotations":{"keep":"3"}},"spec":{"containers":[{"name":"a"}]}}`)
	if !reflect.DeepEqual(obj.Object, want.Object) {
		t.Fatalf("after removal %v, want %v", obj.Object, want.Object)
	}
	for _, bad := range []string{"spec/replicas", ""} {
		if err := RemovePointers(obj, []string{bad}); err == nil {
			t.Errorf("pointer %q accepted", bad)
		}
	}
}

func TestMatches(t *testing.T) {
	obj := object(t, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web-1","namespace":"team","labels":{"tier":"front"},"annotations":{"drift":"off"}}}`)
	for _, tc := range []struct {
		sel  *meta.Selector
		want bool
	}{
		{nil, true},
		{&meta.Selector{}, true},
		{&meta.Selector{Kind: "Deployment", Group: "apps"}, true},
		{&meta.Selector{Kind: "Deploy"}, false}, // anchored
		{&meta.Selector{Name: "web-.*", Namespace: "team"}, true},
		{&meta.Selector{Version: "v1beta1"}, false},
		{&meta.Selector{LabelSelector: "tier in (front,back)"}, true},
		{&meta.Selector{LabelSelector: "tier=back"}, false},
		{&meta.Selector{AnnotationSelector: "drift=off"}, true},
	} {
		got, err := Matches(tc.sel, obj)
		if err != nil || got != tc.want {
			t.Errorf("Matches(%+v) = %v, %v; want %v", tc.sel, got, err, tc.want)
		}
	}
	if _, err := Matches(&meta.Selector{Name: "("}, obj); err == nil {
		t.Error("a bad regular expression must be an error")
	}
	if _, err := Matches(&meta.Selector{LabelSelector: "a in ("}, obj); err == nil {
		t.Error("a bad label selector must be an error")
	}
}
