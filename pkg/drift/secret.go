package drift

import (
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// AsStored returns desired as the API server stores it: a core Secret's stringData is moved
// into data, base64-encoded, as the server does on write. Other objects are returned as they
// are; desired is never modified.
func AsStored(desired *unstructured.Unstructured) *unstructured.Unstructured {
	gvk := desired.GroupVersionKind()
	stringData, ok := desired.Object["stringData"].(map[string]any)
	if gvk.Group != "" || gvk.Kind != "Secret" || !ok {
		return desired
	}
	out := desired.DeepCopy()
	data, _ := out.Object["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range stringData {
		if str, ok := v.(string); ok {
			data[k] = base64.StdEncoding.EncodeToString([]byte(str))
		}
	}
	out.Object["data"] = data
	delete(out.Object, "stringData")
	return out
}
