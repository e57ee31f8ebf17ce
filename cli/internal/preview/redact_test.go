package preview

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func secret(data map[string]any, annotations map[string]any) *unstructured.Unstructured {
	obj := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"}, "data": data}
	if annotations != nil {
		obj["metadata"].(map[string]any)["annotations"] = annotations
	}
	return &unstructured.Unstructured{Object: obj}
}

func TestRedact(t *testing.T) {
	live := secret(map[string]any{"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}, map[string]any{lastApplied: `{"data":{"same":"YQ=="}}`})
	build := secret(map[string]any{"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}, nil)
	redact(live, build)
	if want := map[string]any{"same": Mask, "changed": maskBefore, "gone": Mask}; !reflect.DeepEqual(live.Object["data"], want) {
		t.Errorf("live data %v, want %v", live.Object["data"], want)
	}
	if want := map[string]any{"same": Mask, "changed": maskAfter, "new": Mask}; !reflect.DeepEqual(build.Object["data"], want) {
		t.Errorf("build data %v, want %v", build.Object["data"], want)
	}
	if got := live.GetAnnotations()[lastApplied]; got != Mask {
		t.Errorf("last-applied annotation %q, want it masked", got)
	}

	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"a": "b"}}}
	redact(cm, nil)
	if cm.Object["data"].(map[string]any)["a"] != "b" {
		t.Errorf("a ConfigMap was masked: %v", cm.Object)
	}
}
