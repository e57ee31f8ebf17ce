package drift

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// DifferingPaths lists the paths of desired's fields whose value differs in live, sorted.
// Maps are compared key by key, lists whole. apiVersion, kind, status and metadata other than
// labels and annotations are not desired state and are skipped.
func DifferingPaths(desired, live map[string]any) [][]string {
	var out [][]string
	var walk func(path []string, want, got any)
	walk = func(path []string, want, got any) {
		wm, ok := want.(map[string]any)
		if !ok {
			if !reflect.DeepEqual(normalize(want), normalize(got)) {
				out = append(out, slices.Clone(path))
			}
			return
		}
		gm, _ := got.(map[string]any)
		for _, k := range sortedKeys(wm) {
			walk(append(path, k), wm[k], gm[k])
		}
	}
	for _, k := range sortedKeys(desired) {
		switch k {
		case "apiVersion", "kind", "status":
			continue
		case "metadata":
			wm, _ := desired[k].(map[string]any)
			lm, _ := live[k].(map[string]any)
			for _, mk := range []string{"labels", "annotations"} {
				if _, ok := wm[mk]; ok {
					walk([]string{k, mk}, wm[mk], lm[mk])
				}
			}
		default:
			walk([]string{k}, desired[k], live[k])
		}
	}
	return out
}

// normalize makes numbers decoded from YAML and from JSON compare equal.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// FormatPath renders a path as `.spec.replicas`, quoting keys that are not identifiers, as in
// `.metadata.annotations["example.com/x"]`.
func FormatPath(path []string) string {
	var b strings.Builder
	for _, seg := range path {
		if seg == "" || strings.ContainsAny(seg, ".[]\" /") {
			fmt.Fprintf(&b, "[%q]", seg)
			continue
		}
		b.WriteString(".")
		b.WriteString(seg)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
