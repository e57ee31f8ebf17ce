package drift

import (
	"encoding/json"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FieldSets are the fields each manager owns, decoded from managedFields (FieldsV1).
type FieldSets map[string]map[string]any

// ManagedFields decodes live's managedFields per manager, merging a manager's operations
// and skipping subresources. When applier is set, its Update operations are kept apart under
// "<applier> (update)" so that the applier's Apply entry alone is under applier.
func ManagedFields(live *unstructured.Unstructured, applier string) FieldSets {
	out := FieldSets{}
	for _, mf := range live.GetManagedFields() {
		if mf.FieldsV1 == nil || mf.Subresource != "" {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields); err != nil {
			continue
		}
		name := mf.Manager
		if applier != "" && name == applier && mf.Operation != metav1.ManagedFieldsOperationApply {
			name = applier + " (update)"
		}
		if out[name] == nil {
			out[name] = fields
			continue
		}
		mergeFields(out[name], fields)
	}
	return out
}

func mergeFields(dst, src map[string]any) {
	for k, v := range src {
		dm, ok1 := dst[k].(map[string]any)
		sm, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			mergeFields(dm, sm)
			continue
		}
		dst[k] = v
	}
}

// Owns reports whether manager owns path or a part of it (for lists, any element).
func (s FieldSets) Owns(manager string, path []string) bool {
	cur := s[manager]
	if cur == nil {
		return false
	}
	for _, seg := range path {
		next, ok := cur["f:"+seg].(map[string]any)
		if !ok {
			return false
		}
		cur = next
	}
	return true
}

// Managers returns the manager names, sorted.
func (s FieldSets) Managers() []string {
	names := make([]string, 0, len(s))
	for name := range s {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// OwnerOf returns the first manager, in name order, other than those in except, that owns
// path; "" when none does.
func (s FieldSets) OwnerOf(path []string, except ...string) string {
	for _, m := range s.Managers() {
		skip := false
		for _, e := range except {
			skip = skip || m == e
		}
		if !skip && s.Owns(m, path) {
			return m
		}
	}
	return ""
}
