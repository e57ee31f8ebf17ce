package drift

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"weir.dev/api/meta"
)

// RemovePointers deletes the fields at JSON Pointers (RFC 6901, e.g. `/spec/replicas`) from
// obj, in place; a pointer to a field obj lacks is not an error. List elements are addressed
// by index.
func RemovePointers(obj *unstructured.Unstructured, pointers []string) error {
	for _, p := range pointers {
		path, err := parsePointer(p)
		if err != nil {
			return err
		}
		if len(path) == 0 {
			return fmt.Errorf("JSON pointer %q: the whole object cannot be ignored", p)
		}
		obj.Object = removePath(obj.Object, path).(map[string]any)
	}
	return nil
}

// parsePointer splits a JSON Pointer into unescaped reference tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("JSON pointer %q does not start with /", p)
	}
	tokens := strings.Split(p[1:], "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return tokens, nil
}

func removePath(node any, path []string) any {
	switch n := node.(type) {
	case map[string]any:
		if len(path) == 1 {
			delete(n, path[0])
			return n
		}
		if child, ok := n[path[0]]; ok {
			n[path[0]] = removePath(child, path[1:])
		}
		return n
	case []any:
		i, err := strconv.Atoi(path[0])
		if err != nil || i < 0 || i >= len(n) {
			return n
		}
		if len(path) == 1 {
			return append(n[:i:i], n[i+1:]...)
		}
		n[i] = removePath(n[i], path[1:])
		return n
	default:
		return node
	}
}

// Matches reports whether obj is selected by sel: every set field of sel matches (group,
// version, kind, name and namespace as anchored regular expressions; label and annotation
// selectors as label-selector expressions). A nil selector matches every object.
func Matches(sel *meta.Selector, obj *unstructured.Unstructured) (bool, error) {
	if sel == nil {
		return true, nil
	}
	gvk := obj.GroupVersionKind()
	for _, f := range []struct{ expr, value string }{
		{sel.Group, gvk.Group}, {sel.Version, gvk.Version}, {sel.Kind, gvk.Kind},
		{sel.Name, obj.GetName()}, {sel.Namespace, obj.GetNamespace()},
	} {
		if f.expr == "" {
			continue
		}
		re, err := regexp.Compile("^(?:" + f.expr + ")$")
		if err != nil {
			return false, fmt.Errorf("selector expression %q: %w", f.expr, err)
		}
		if !re.MatchString(f.value) {
			return false, nil
		}
	}
	for _, f := range []struct {
		expr string
		set  map[string]string
	}{{sel.LabelSelector, obj.GetLabels()}, {sel.AnnotationSelector, obj.GetAnnotations()}} {
		if f.expr == "" {
			continue
		}
		s, err := labels.Parse(f.expr)
		if err != nil {
			return false, fmt.Errorf("selector expression %q: %w", f.expr, err)
		}
		if !s.Matches(labels.Set(f.set)) {
			return false, nil
		}
	}
	return true, nil
}
