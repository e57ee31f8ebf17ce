// Package yamlguard refuses YAML that would crash or stall kustomize's YAML library (kyaml)
// before it reads it: the builds of kustomize-controller and `weir build`, and
// helm-controller's kustomize post-renderer.
package yamlguard

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yaml "go.yaml.in/yaml/v3"
)

// Check refuses YAML that kustomize cannot read safely: a document with an alias inside
// the node its anchor names (`a: &x {k: *x}`), which kustomize's YAML library expands
// without end until the process dies of a stack overflow, and alias bombs ("billion
// laughs"), which it expands in full. Syntax errors are left to the reader, which reports them
// with more context. name prefixes the error, which says what to remove.
func Check(name string, b []byte) error {
	if !bytes.Contains(b, []byte("*")) {
		return nil // no alias can be in it
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil
		}
		if anchor, ok := recursiveAlias(&doc); ok {
			return fmt.Errorf("%s: the YAML alias *%s is inside the anchor &%s it refers to (a recursive alias, which kustomize cannot expand)", name, anchor, anchor)
		}
	}
	// Aliases acyclic: decoding in full now terminates, and the decoder refuses one that
	// expands far beyond the size of the document.
	dec = yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if bytes.Contains([]byte(err.Error()), []byte("excessive aliasing")) {
				return fmt.Errorf("%s: too many YAML aliases (a \"billion laughs\" document)", name)
			}
			return nil
		}
	}
}

// recursiveAlias finds an alias whose anchor's node contains it, directly or through other
// aliases, and returns the anchor's name.
func recursiveAlias(doc *yaml.Node) (string, bool) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[*yaml.Node]int{}
	var walk func(n *yaml.Node) (string, bool)
	walk = func(n *yaml.Node) (string, bool) {
		switch state[n] {
		case visiting:
			return n.Anchor, true
		case done:
			return "", false
		}
		state[n] = visiting
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			if a, ok := walk(n.Alias); ok {
				return a, true
			}
		}
		for _, c := range n.Content {
			if a, ok := walk(c); ok {
				return a, true
			}
		}
		state[n] = done
		return "", false
	}
	return walk(doc)
}
