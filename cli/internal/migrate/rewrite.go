package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Finding is something that did not map, at a line of its file (0 when the whole file).
type Finding struct {
	File    string
	Line    int
	Message string
}

func (f Finding) String() string {
	if f.Line == 0 {
		return fmt.Sprintf("%s: %s", f.File, f.Message)
	}
	return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Message)
}

// metadataMaps are the keys whose values are maps of annotation or label keys.
var metadataMaps = map[string]bool{
	"annotations": true, "labels": true, "matchLabels": true,
	"commonLabels": true, "commonAnnotations": true,
}

// fluxMention finds Flux API groups and keys left in strings (a patch's text, a selector).
var fluxMention = regexp.MustCompile(`(?:[a-z0-9-]+\.)*fluxcd\.io(?:/|~1)[A-Za-z][\w.~-]*`)

// edit replaces old, at or after column col (1-based, in runes) of line (1-based), with new.
type edit struct {
	line, col int
	old, new  string
}

// Rewrite rewrites the YAML stream src, named file in findings. It returns the rewritten text
// and what did not map; the text is src with only the mapped names changed.
func Rewrite(file string, src []byte) ([]byte, []Finding) {
	src, mapped := convertApplicationSets(file, src)
	r := newRewriter(file, src)
	r.findings = mapped
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.report(0, "not YAML: %v", err)
			return src, r.findings
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		root := doc.Content[0]
		if isApplicationSet(root) {
			continue // reported by convertApplicationSets
		}
		r.walk(root, "")
		r.drop(root)
		r.validate(root)
	}
	return cutLines(applyEdits(src, r.edits), r.cuts), r.findings
}

type rewriter struct {
	file string
	// lines is the source text, to tell whether a scalar's value is written as it is.
	lines    []string
	edits    []edit
	cuts     [][2]int // line ranges (1-based, inclusive) to remove, after the edits
	findings []Finding
}

func newRewriter(file string, src []byte) *rewriter {
	return &rewriter{file: file, lines: strings.SplitAfter(string(src), "\n")}
}

func (r *rewriter) report(line int, format string, args ...any) {
	r.findings = append(r.findings, Finding{File: r.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// set rewrites the scalar n to value, in the text and in the node (for validation). A value
// the text does not hold as it is on n's line (a plain scalar folded over several lines, an
// escape in quotes) is reported, to change by hand, rather than rewritten.
func (r *rewriter) set(n *yaml.Node, value string) {
	if !r.written(n) {
		r.report(n.Line, "%q is written over several lines or with escapes: change it to %s by hand", n.Value, value)
		return
	}
	r.edits = append(r.edits, edit{line: n.Line, col: n.Column, old: n.Value, new: value})
	n.Value = value
}

// written reports whether n's value stands as it is in the text, from n's column on its line.
func (r *rewriter) written(n *yaml.Node) bool {
	if n.Line < 1 || n.Line > len(r.lines) {
		return false
	}
	line := []rune(r.lines[n.Line-1])
	from := min(max(n.Column-1, 0), len(line))
	return strings.Contains(string(line[from:]), n.Value)
}

// walk rewrites the mapping or sequence n, the value of the key parent.
func (r *rewriter) walk(n *yaml.Node, parent string) {
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			r.walk(c, "")
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			r.pair(n, k, v, parent)
		}
	case yaml.ScalarNode:
		r.mentions(n)
	}
}

// pair rewrites one key and value of the mapping m, the value of the key parent.
func (r *rewriter) pair(m, k, v *yaml.Node, parent string) {
	if metadataMaps[parent] {
		if to, problem, ok := mapKey(k.Value); ok {
			if problem != "" {
				r.report(k.Line, "%s", problem)
			} else {
				r.set(k, to)
			}
		}
	} else {
		r.mentions(k)
	}
	if v.Kind != yaml.ScalarNode {
		r.walk(v, k.Value)
		return
	}
	switch k.Value {
	case "apiVersion":
		if to, problem, ok := mapAPIVersion(v.Value, scalar(m, "kind")); ok {
			if problem != "" {
				r.report(v.Line, "%s", problem)
			} else {
				r.set(v, to)
			}
			return
		}
	case "group":
		if to, problem, ok := mapGroup(v.Value); ok {
			if problem != "" {
				r.report(v.Line, "%s", problem)
			} else {
				r.set(v, to)
			}
			return
		}
	}
	r.mentions(v)
}

// mentions reports the Flux names left in the text of the scalar n, which migrate does not
// rewrite: a patch's text or a selector string.
func (r *rewriter) mentions(n *yaml.Node) {
	if n.Kind != yaml.ScalarNode || !strings.Contains(n.Value, "fluxcd.io") {
		return
	}
	for i, line := range strings.Split(n.Value, "\n") {
		for _, m := range fluxMention.FindAllStringIndex(line, -1) {
			if before := line[:m[0]]; strings.HasSuffix(before, "//") || strings.TrimRight(before, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != before {
				continue // a URL's host, or part of a longer name
			}
			at := n.Line
			if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				at += i + 1 // the text starts on the line after the | or >
			}
			r.report(at, "%s in a string is not rewritten: change it by hand", line[m[0]:m[1]])
		}
	}
}

// scalar returns the value of key in the mapping m, or "".
func scalar(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// applyEdits applies edits to src, line by line, later columns first so earlier ones stay put.
func applyEdits(src []byte, edits []edit) []byte {
	if len(edits) == 0 {
		return src
	}
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].line != edits[j].line {
			return edits[i].line < edits[j].line
		}
		return edits[i].col > edits[j].col
	})
	lines := strings.SplitAfter(string(src), "\n")
	for _, e := range edits {
		if e.line < 1 || e.line > len(lines) {
			continue
		}
		line := []rune(lines[e.line-1])
		from := min(max(e.col-1, 0), len(line))
		head, tail := string(line[:from]), string(line[from:])
		lines[e.line-1] = head + strings.Replace(tail, e.old, e.new, 1)
	}
	return []byte(strings.Join(lines, ""))
}

// cutLines removes the line ranges cuts (1-based, inclusive) from src.
func cutLines(src []byte, cuts [][2]int) []byte {
	if len(cuts) == 0 {
		return src
	}
	lines := strings.SplitAfter(string(src), "\n")
	var b strings.Builder
	for i, line := range lines {
		cut := false
		for _, c := range cuts {
			if i+1 >= c[0] && i+1 <= c[1] {
				cut = true
				break
			}
		}
		if !cut {
			b.WriteString(line)
		}
	}
	return []byte(b.String())
}
