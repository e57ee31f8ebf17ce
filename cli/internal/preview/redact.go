package preview

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Masks that replace Secret values: the same on both sides of a diff when the value is
// unchanged, "before" and "after" when it changed, so a diff shows that a value changed but
// never what it is.
const (
	Mask       = "***"
	maskBefore = "*** (before)"
	maskAfter  = "*** (after)"
)

// lastApplied is kubectl's client-side apply annotation: on a Secret it holds the values.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// redact masks, in place, the values of obj when it is a Secret: data, stringData and
// kubectl's last-applied annotation. With other (the other side of a diff, also masked in
// place), values that differ between the two get the before and after masks.
func redact(obj, other *unstructured.Unstructured) {
	if !isSecret(obj) && !isSecret(other) {
		return
	}
	for _, field := range []string{"data", "stringData"} {
		mine := values(obj, field)
		theirs := values(other, field)
		for k, v := range mine {
			switch o, ok := theirs[k]; {
			case ok && o != v:
				mine[k], theirs[k] = maskBefore, maskAfter
			case ok:
				mine[k], theirs[k] = Mask, Mask
			default:
				mine[k] = Mask
			}
		}
		for k := range theirs {
			if _, ok := mine[k]; !ok {
				theirs[k] = Mask
			}
		}
		set(obj, field, mine)
		set(other, field, theirs)
	}
	for _, o := range []*unstructured.Unstructured{obj, other} {
		if o == nil {
			continue
		}
		if a := o.GetAnnotations(); a[lastApplied] != "" {
			a[lastApplied] = Mask
			o.SetAnnotations(a)
		}
	}
}

func isSecret(obj *unstructured.Unstructured) bool {
	return obj != nil && obj.GetKind() == "Secret" && obj.GroupVersionKind().Group == ""
}

// values returns a copy of obj's string map field, as strings (nil when absent).
func values(obj *unstructured.Unstructured, field string) map[string]string {
	if obj == nil {
		return nil
	}
	m, ok := obj.Object[field].(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

func set(obj *unstructured.Unstructured, field string, m map[string]string) {
	if obj == nil || m == nil {
		return
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	obj.Object[field] = out
}
