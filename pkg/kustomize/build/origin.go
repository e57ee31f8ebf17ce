package build

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	sigsyaml "sigs.k8s.io/yaml"
)

// originAnnotation is where kustomize records, when asked to (buildMetadata: [originAnnotations]),
// the file each object came from. Build asks for it and removes it again, so it never reaches the
// cluster unless the kustomization.yaml asked for it itself.
const originAnnotation = "config.kubernetes.io/origin"

// Origins says where in the artifact each built object came from, keyed by ObjectKey. A value is
// "path:line", the path relative to the artifact root and the first line of the object's YAML
// document; a generated object (configMapGenerator and the like) names the kustomization file
// that configures it, with the line of its generator entry when that can be found.
type Origins map[string]string

// ObjectKey is obj as apply and health messages name it: Kind/namespace/name, or Kind/name
// when obj has no namespace.
func ObjectKey(obj *unstructured.Unstructured) string {
	return ObjectKeyOf(obj.GetKind(), obj.GetNamespace(), obj.GetName())
}

// ObjectKeyOf is ObjectKey from the parts.
func ObjectKeyOf(kind, namespace, name string) string {
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

// Of returns where obj came from, "" when unknown.
func (o Origins) Of(obj *unstructured.Unstructured) string {
	if o == nil {
		return ""
	}
	return o[ObjectKey(obj)]
}

// withOriginAnnotations returns manifest (a kustomization file) asking kustomize for origin
// annotations, and whether it had to add the request. A file it cannot read is left as it is,
// for kustomize to report.
func withOriginAnnotations(manifest []byte) ([]byte, bool, error) {
	var k map[string]any
	if err := sigsyaml.Unmarshal(manifest, &k); err != nil || k == nil {
		return manifest, false, nil
	}
	var meta []any
	if v, ok := k["buildMetadata"].([]any); ok {
		meta = v
	}
	if slices.Contains(meta, any(kustypes.OriginAnnotations)) {
		return manifest, false, nil
	}
	k["buildMetadata"] = append(meta, kustypes.OriginAnnotations)
	out, err := sigsyaml.Marshal(k)
	if err != nil {
		return manifest, false, err
	}
	return out, true, nil
}

// originLocator finds the origin of built objects in the files of one source root, parsing each
// file once.
type originLocator struct {
	root *os.Root
	dir  string // spec.path, relative to the root, slash-separated
	docs map[string][]originDoc
}

// originDoc is one YAML document of a file: what it declares and its first line.
type originDoc struct {
	kind, name string
	line       int
	generators map[string]int // kustomization files: generator name → line of its entry
}

func newOriginLocator(root, dir string) (*originLocator, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	return &originLocator{root: r, dir: filepath.ToSlash(dir), docs: map[string][]originDoc{}}, nil
}

func (l *originLocator) close() { _ = l.root.Close() }

// locate returns the origin of res (built with origin annotations), "" when it has none.
func (l *originLocator) locate(res *resource.Resource) string {
	o, err := res.GetOrigin()
	if err != nil || o == nil || o.Repo != "" {
		return ""
	}
	if o.ConfiguredIn != "" {
		p := path.Join(l.dir, filepath.ToSlash(o.ConfiguredIn))
		return l.generated(p, res)
	}
	if o.Path == "" {
		return ""
	}
	p := path.Join(l.dir, filepath.ToSlash(o.Path))
	if strings.HasPrefix(p, "../") {
		return ""
	}
	if kustomizationFile(p) {
		return l.generated(p, res)
	}
	docs := l.parse(p)
	if doc, ok := matchDoc(docs, res.GetKind(), res.GetName()); ok {
		return fmt.Sprintf("%s:%d", p, doc.line)
	}
	return p
}

// generated is the origin of res, made by a generator of the kustomization file p.
func (l *originLocator) generated(p string, res *resource.Resource) string {
	for _, d := range l.parse(p) {
		best, line := "", 0
		for name, ln := range d.generators {
			if strings.Contains(res.GetName(), name) && len(name) > len(best) {
				best, line = name, ln
			}
		}
		if line > 0 {
			return fmt.Sprintf("%s:%d", p, line)
		}
	}
	return p
}

func kustomizationFile(p string) bool {
	return slices.Contains(kustomizationFiles, path.Base(p))
}

// matchDoc picks the document of docs that declared kind/name: the one of that name, else the
// one whose name the built name contains (a prefix or suffix was added), else the only one of
// that kind.
func matchDoc(docs []originDoc, kind, name string) (originDoc, bool) {
	var best originDoc
	var sameKind []originDoc
	for _, d := range docs {
		if d.kind != kind {
			continue
		}
		if d.name == name {
			return d, true
		}
		sameKind = append(sameKind, d)
		if d.name != "" && strings.Contains(name, d.name) && len(d.name) > len(best.name) {
			best = d
		}
	}
	if best.line > 0 {
		return best, true
	}
	if len(sameKind) == 1 {
		return sameKind[0], true
	}
	return originDoc{}, false
}

// parse returns the documents of the file p (relative to the root); none when it cannot be read.
// The files are the ones kustomize has just read, checked by Guard.
func (l *originLocator) parse(p string) []originDoc {
	if docs, ok := l.docs[p]; ok {
		return docs
	}
	var docs []originDoc
	if b, err := l.root.ReadFile(filepath.FromSlash(p)); err == nil {
		docs = parseDocs(b)
	}
	l.docs[p] = docs
	return docs
}

func parseDocs(b []byte) []originDoc {
	var docs []originDoc
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) || err != nil {
			return docs
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
			continue
		}
		m := n.Content[0]
		d := originDoc{line: m.Line}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			switch k.Value {
			case "kind":
				d.kind = v.Value
			case "metadata":
				d.name = scalarField(v, "name")
			case "configMapGenerator", "secretGenerator":
				if v.Kind != yaml.SequenceNode {
					continue
				}
				for _, item := range v.Content {
					if name := scalarField(item, "name"); name != "" {
						if d.generators == nil {
							d.generators = map[string]int{}
						}
						d.generators[name] = item.Line
					}
				}
			}
		}
		docs = append(docs, d)
	}
}

// scalarField is the value of the scalar field key of the mapping n, "" when there is none.
func scalarField(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}
