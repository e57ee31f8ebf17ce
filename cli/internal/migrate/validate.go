package migrate

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	sigsjson "sigs.k8s.io/json"

	"weir.dev/pkg/scheme"
)

// weirKinds knows Weir's kinds, the types of its CRDs.
var weirKinds = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(scheme.AddWeir(s))
	return s
}()

// validate reports the fields of the rewritten document root that Weir's kind does not have,
// by a strict decode into its type, at the line of each field. Status is not checked: the
// controllers write it.
func (r *rewriter) validate(root *yaml.Node) {
	gv, err := schema.ParseGroupVersion(scalar(root, "apiVersion"))
	if err != nil {
		return
	}
	obj, err := weirKinds.New(gv.WithKind(scalar(root, "kind")))
	if err != nil {
		return // not a Weir kind
	}
	var doc map[string]any
	if err := root.Decode(&doc); err != nil {
		r.report(root.Line, "%v", err)
		return
	}
	delete(doc, "status")
	b, err := json.Marshal(doc)
	if err != nil {
		r.report(root.Line, "%v", err)
		return
	}
	strict, err := sigsjson.UnmarshalStrict(b, obj)
	if err != nil {
		r.report(root.Line, "not a valid %s: %v", gv.WithKind(scalar(root, "kind")).Kind, err)
		return
	}
	for _, e := range strict {
		line := root.Line
		if p, ok := e.(interface{ FieldPath() string }); ok {
			line = lineOf(root, p.FieldPath())
		}
		r.report(line, "%v: Weir's %s has no such field", e, scalar(root, "kind"))
	}
}

// pathPart matches one step of a field path: a name, or an index in brackets.
var pathPart = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// lineOf returns the line of the field at path (`spec.patches[0].target`) under n, or of its
// nearest ancestor that exists.
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	for _, part := range pathPart.FindAllString(path, -1) {
		var next *yaml.Node
		switch {
		case strings.HasPrefix(part, "[") && n.Kind == yaml.SequenceNode:
			if i, err := strconv.Atoi(strings.Trim(part, "[]")); err == nil && i < len(n.Content) {
				line, next = n.Content[i].Line, n.Content[i]
			}
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					line, next = n.Content[i].Line, n.Content[i+1]
					break
				}
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}
