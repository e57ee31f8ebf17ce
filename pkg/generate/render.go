package generate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	setsv1 "weir.dev/api/sets/v1"
)

// Bounds of rendering.
const (
	// MaxRenderBytes is the most one input may render.
	MaxRenderBytes = 256 << 10
	// MaxObjectsPerInput is the most objects one input may render.
	MaxObjectsPerInput = 100
)

// templateName is how template errors name the template: "template: spec.template:3:12: ...".
const templateName = "spec.template"

// Template is a parsed spec.template.
type Template struct{ t *template.Template }

// Parse parses text with the restricted function set; a missing key is an error when executed.
func Parse(text string) (*Template, error) {
	t, err := template.New(templateName).Option("missingkey=error").Funcs(funcs()).Parse(text)
	if err != nil {
		return nil, err
	}
	return &Template{t: t}, nil
}

// Render executes the template with in and decodes the YAML documents it writes. Its errors
// name the input, and the template line or the rendered document at fault.
func (t *Template) Render(in Input) ([]*unstructured.Unstructured, error) {
	var buf bytes.Buffer
	if err := t.t.Execute(&limitedWriter{w: &buf, left: MaxRenderBytes}, in.Values); err != nil {
		return nil, fmt.Errorf("input %s: %w", in.Name, err)
	}
	objs, err := decode(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", in.Name, err)
	}
	return objs, nil
}

// decode splits rendered YAML into objects, skipping empty documents.
func decode(b []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var out []*unstructured.Unstructured
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("rendered document %d: %w", n, err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("rendered document %d is not valid YAML: %w", n, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("rendered document %d: apiVersion, kind and metadata.name are required", n)
		}
		if len(out) == MaxObjectsPerInput {
			return nil, fmt.Errorf("renders more than %d objects", MaxObjectsPerInput)
		}
		out = append(out, u)
	}
}

var errTooLarge = fmt.Errorf("renders more than %d bytes", MaxRenderBytes)

// limitedWriter fails a write past its limit, which stops the template's execution.
type limitedWriter struct {
	w    io.Writer
	left int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.left {
		return 0, errTooLarge
	}
	l.left -= len(p)
	return l.w.Write(p)
}

// funcs is the whole function set beyond Go's builtins: string and YAML helpers only.
func funcs() template.FuncMap {
	return template.FuncMap{
		"default": func(def any, v ...any) any {
			if len(v) == 0 || empty(v[0]) {
				return def
			}
			return v[0]
		},
		"required": func(msg string, v any) (any, error) {
			if empty(v) {
				return nil, errors.New(msg)
			}
			return v, nil
		},
		"quote":      func(v any) string { return fmt.Sprintf("%q", str(v)) },
		"lower":      func(v any) string { return strings.ToLower(str(v)) },
		"upper":      func(v any) string { return strings.ToUpper(str(v)) },
		"title":      title,
		"trim":       func(v any) string { return strings.TrimSpace(str(v)) },
		"trimPrefix": func(p string, v any) string { return strings.TrimPrefix(str(v), p) },
		"trimSuffix": func(s string, v any) string { return strings.TrimSuffix(str(v), s) },
		"replace":    func(old, new string, v any) string { return strings.ReplaceAll(str(v), old, new) },
		"toYaml":     toYAML,
		"toJson":     toJSON,
		"indent":     func(n int, v any) string { return indent(n, str(v)) },
		"nindent":    func(n int, v any) string { return "\n" + indent(n, str(v)) },
	}
}

func empty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case bool:
		return !t
	case float64:
		return t == 0
	case int:
		return t == 0
	case int64:
		return t == 0
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	return fmt.Sprint(v)
}

func title(v any) string {
	words := strings.Fields(str(v))
	for i, w := range words {
		r, size := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[size:]
	}
	return strings.Join(words, " ")
}

func toYAML(v any) (string, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

// Label marks the objects of one input as the set's: its ownership labels
// (sets.weir.dev/name and /namespace) and the input annotation. A namespaced object without a
// namespace gets the set's; a cluster-scoped one loses any. namespaced says which kinds are.
func Label(objects []*unstructured.Unstructured, set *setsv1.ResourceSet, input string, namespaced func(schema.GroupVersionKind) (bool, error)) error {
	for i, o := range objects {
		ok, err := namespaced(o.GroupVersionKind())
		if err != nil {
			return fmt.Errorf("input %s: rendered document %d: %s %s: %w", input, i+1, o.GetAPIVersion(), o.GetKind(), err)
		}
		switch {
		case !ok:
			o.SetNamespace("")
		case o.GetNamespace() == "":
			o.SetNamespace(set.Namespace)
		}
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l[setsv1.OwnerNameLabel], l[setsv1.OwnerNamespaceLabel] = set.Name, set.Namespace
		o.SetLabels(l)
		a := o.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[setsv1.InputAnnotation] = input
		o.SetAnnotations(a)
	}
	return nil
}
