package migrate

import (
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// droppedField is a field of a Flux kind that Weir does not have, which migrate removes with a
// warning rather than leaving it for the API server to refuse or prune.
type droppedField struct {
	kind, path, why string
}

// droppedFields are removed from the documents of their kind (after the apiVersion is Weir's).
var droppedFields = []droppedField{
	{"HelmRepository", "spec.accessFrom", "Weir has no cross-namespace access lists: a HelmChart uses only a HelmRepository in its own namespace"},
	{"HelmChart", "spec.accessFrom", "Weir has no cross-namespace access lists: a HelmChart uses only a HelmRepository in its own namespace"},
	{"Kustomization", "spec.decryption.serviceAccountName", "cloud KMS with workload identity is not supported: decryption uses the age and OpenPGP keys of spec.decryption.secretRef"},
}

// refusedValues are values of fields Weir's API refuses, by kind and field path, with why.
var refusedValues = []struct {
	kinds     []string
	path, why string
	values    []string
}{
	{[]string{"OCIRepository", "HelmRepository"}, "spec.provider", "cloud workload identity is not supported: use generic with a registry credentials Secret in spec.secretRef", []string{"aws", "azure", "gcp"}},
}

// refuse reports the refused values of the Weir document root, which the API server would
// reject, at their lines; the user changes them.
func (r *rewriter) refuse(root *yaml.Node) {
	if !weirKind(root) {
		return
	}
	kind := scalar(root, "kind")
	for _, rv := range refusedValues {
		if !slices.Contains(rv.kinds, kind) {
			continue
		}
		n := root
		for _, p := range strings.Split(rv.path, ".") {
			if n = value(n, p); n == nil {
				break
			}
		}
		if n != nil && n.Kind == yaml.ScalarNode && slices.Contains(rv.values, n.Value) {
			r.report(n.Line, "%s %s is not supported by Weir (%s)", rv.path, n.Value, rv.why)
		}
	}
}

// drop removes the dropped fields of the Weir document root from the text and the tree, and
// reports each one. A field written in a flow mapping ({...}), or whose value spans lines the
// tree does not locate, is reported for the user to remove.
func (r *rewriter) drop(root *yaml.Node) {
	if !weirKind(root) {
		return
	}
	kind := scalar(root, "kind")
	r.refuse(root)
	for _, d := range droppedFields {
		if d.kind != kind {
			continue
		}
		parts := strings.Split(d.path, ".")
		m := root
		for _, p := range parts[:len(parts)-1] {
			if m = value(m, p); m == nil || m.Kind != yaml.MappingNode {
				break
			}
		}
		if m == nil || m.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if k.Value != parts[len(parts)-1] {
				continue
			}
			if m.Style&yaml.FlowStyle != 0 || !r.startsLine(k) || (v.Kind == yaml.ScalarNode && (v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || !r.written(v))) {
				r.report(k.Line, "%s is not supported by Weir (%s): remove it by hand", d.path, d.why)
			} else {
				r.cuts = append(r.cuts, [2]int{k.Line, lastLine(v)})
				r.report(k.Line, "%s removed: %s", d.path, d.why)
			}
			m.Content = append(m.Content[:i:i], m.Content[i+2:]...) // reported once, not again by validate
			break
		}
	}
}

// weirKind reports whether root's apiVersion and kind are one of Weir's kinds.
func weirKind(root *yaml.Node) bool {
	_, _, ok := mapAPIVersion(scalar(root, "apiVersion"), "")
	if ok {
		return false // still Flux's: it did not map
	}
	for _, g := range groups {
		if g.apiVersion == scalar(root, "apiVersion") {
			return true
		}
	}
	return false
}

// value returns the value of key in the mapping m, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// startsLine reports whether only spaces come before the node n on its line.
func (r *rewriter) startsLine(n *yaml.Node) bool {
	if n.Line < 1 || n.Line > len(r.lines) {
		return false
	}
	line := []rune(r.lines[n.Line-1])
	return n.Column >= 1 && n.Column-1 <= len(line) && strings.TrimSpace(string(line[:n.Column-1])) == ""
}

// lastLine is the last line that n or a node under it starts on.
func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}
