package count

import (
	"bytes"
	"errors"
	"io"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Objects returns how many objects the stream b holds as kustomize and Helm see them: each
// non-empty document, or the items of a document whose kind ends in "List". It stops counting
// once the count exceeds stop (when stop > 0), so the cost of an oversized stream is bounded by
// stop rather than by its length. Where the stream stops being YAML, the rest counts as one
// object: whoever parses it next reports the error with more context.
func Objects(b []byte, stop int) int {
	n := 0
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for stop <= 0 || n <= stop {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			return n + 1
		}
		n += objectsIn(&doc)
	}
	return n
}

// objectsIn counts one document: 0 when it is empty, its items when it is a List.
func objectsIn(doc *yaml.Node) int {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		if doc.Kind == 0 || doc.Tag == "!!null" {
			return 0
		}
		return 1
	}
	var kind string
	var items *yaml.Node
	for i := 0; i+1 < len(doc.Content); i += 2 {
		switch doc.Content[i].Value {
		case "kind":
			kind = doc.Content[i+1].Value
		case "items":
			items = doc.Content[i+1]
		}
	}
	if strings.HasSuffix(kind, "List") && items != nil && items.Kind == yaml.SequenceNode {
		return len(items.Content)
	}
	return 1
}
