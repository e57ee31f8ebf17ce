package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// kustomizationNames are the file names kustomize reads a kustomization from.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// Fields of a kustomization (or of a builtin plugin's configuration) whose values kustomize
// never loads as paths: they are data. Every other string is checked for remote references.
var dataFields = map[string]bool{
	"apiVersion": true, "kind": true, "metadata": true, "namespace": true, "namePrefix": true,
	"nameSuffix": true, "commonLabels": true, "commonAnnotations": true, "labels": true,
	"images": true, "replicas": true, "vars": true, "patch": true, "target": true,
	"literals": true, "options": true, "sortOptions": true, "buildMetadata": true,
	"source": true, "targets": true, "fieldSpecs": true, "name": true, "behavior": true,
	"annotations": true, "generatorOptions": true,
	// Helm is disabled: kustomize refuses these before loading anything.
	"helmCharts": true, "helmGlobals": true, "repo": true,
}

// Fields whose entries kustomize may open as a kustomization directory (loader.New), which is
// where it clones Git bases; and, of those, the ones whose files are plugin configurations.
var (
	baseFields   = map[string]bool{"resources": true, "bases": true, "components": true, "transformers": true, "generators": true, "validators": true}
	pluginFields = map[string]bool{"transformers": true, "generators": true, "validators": true}
)

// remoteScan finds every remote reference kustomize would follow from one kustomization
// directory, through local bases, components and plugin configurations, before kustomize runs.
// With fetch nil the first one found is an error naming its file and entry; otherwise each is
// fetched and its entry rewritten, in fs's in-memory layer, to the local copy, so kustomize
// never fetches anything itself.
type remoteScan struct {
	ctx   context.Context
	fs    filesys.FileSystem
	root  string
	fetch *fetcher
	seen  map[string]bool // kustomization directories scanned
}

// kustomization scans the kustomization in dir, if any, and what it refers to.
func (s *remoteScan) kustomization(dir string) error {
	if s.seen[dir] {
		return nil
	}
	s.seen[dir] = true
	for _, name := range kustomizationNames {
		file := filepath.Join(dir, name)
		if !s.fs.Exists(file) || s.fs.IsDir(file) {
			continue
		}
		return s.file(file, dir, true)
	}
	return nil
}

// file scans the YAML documents of file, whose relative paths kustomize resolves against base;
// top says they are a kustomization rather than a plugin configuration.
func (s *remoteScan) file(file, base string, top bool) error {
	b, err := s.fs.ReadFile(file)
	if err != nil {
		return nil // kustomize reports it
	}
	out, changed, err := s.documents(b, file, base, top)
	if err != nil || !changed {
		return err
	}
	return s.fs.WriteFile(file, out)
}

// documents scans a YAML stream and returns it rewritten when an entry changed.
func (s *remoteScan) documents(b []byte, file, base string, top bool) ([]byte, bool, error) {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		doc := &yaml.Node{}
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// What cannot be read cannot be checked: refuse rather than let kustomize try.
			return nil, false, fmt.Errorf("%s: checking for remote references: %w", s.rel(file), err)
		}
		docs = append(docs, doc)
	}
	changed := false
	for _, doc := range docs {
		c, err := s.mapping(doc, file, base, top)
		if err != nil {
			return nil, false, err
		}
		changed = changed || c
	}
	if !changed {
		return nil, false, nil
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	for _, doc := range docs {
		if err := enc.Encode(doc); err != nil {
			return nil, false, err
		}
	}
	return out.Bytes(), true, enc.Close()
}

// mapping scans the fields of a document's top-level mapping, merge keys included.
func (s *remoteScan) mapping(n *yaml.Node, file, base string, top bool) (bool, error) {
	n = deref(n)
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return false, nil
		}
		n = deref(n.Content[0])
	}
	if n.Kind != yaml.MappingNode {
		return s.walk(n, "", file, base)
	}
	changed := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		var c bool
		var err error
		switch {
		case key == "<<":
			c, err = s.merged(val, file, base, top)
		case top && baseFields[key]:
			c, err = s.refs(val, key, file, base)
		case dataFields[key]:
		default:
			c, err = s.walk(val, key, file, base)
		}
		if err != nil {
			return false, err
		}
		changed = changed || c
	}
	return changed, nil
}

// merged scans the mappings a merge key ("<<") brings in.
func (s *remoteScan) merged(n *yaml.Node, file, base string, top bool) (bool, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return s.mapping(n, file, base, top)
	}
	changed := false
	for _, m := range n.Content {
		c, err := s.mapping(m, file, base, top)
		if err != nil {
			return false, err
		}
		changed = changed || c
	}
	return changed, nil
}

// refs scans the entries of a field kustomize may open as directories: a remote entry is
// refused or fetched; a local directory's kustomization, a local plugin configuration and an
// inline configuration are scanned in turn.
func (s *remoteScan) refs(n *yaml.Node, field, file, base string) (bool, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return s.walk(n, field, file, base)
	}
	changed := false
	for _, e := range n.Content {
		e = deref(e)
		if e.Kind != yaml.ScalarNode {
			c, err := s.mapping(e, file, base, false)
			if err != nil {
				return false, err
			}
			changed = changed || c
			continue
		}
		if isRemote(e.Value) {
			if err := s.remote(e, field, file, base, true); err != nil {
				return false, err
			}
			changed = true
			continue
		}
		if strings.Contains(e.Value, "\n") {
			if !pluginFields[field] {
				continue
			}
			out, c, err := s.documents([]byte(e.Value), file, base, false)
			if err != nil {
				return false, err
			}
			if c {
				e.Value, changed = string(out), true
			}
			continue
		}
		p := filepath.Join(base, e.Value)
		switch {
		case s.fs.IsDir(p):
			if err := s.kustomization(p); err != nil {
				return false, err
			}
		case pluginFields[field] && s.fs.Exists(p):
			if err := s.file(p, base, false); err != nil {
				return false, err
			}
		}
	}
	return changed, nil
}

// walk checks every string under n, except data fields, as a path kustomize may load; field is
// the key n is the value of, for messages.
func (s *remoteScan) walk(n *yaml.Node, field, file, base string) (bool, error) {
	n = deref(n)
	changed := false
	switch n.Kind {
	case yaml.ScalarNode:
		// A value with a line break is inline content: kustomize's loader never fetches it.
		if !strings.Contains(n.Value, "\n") && isRemote(n.Value) {
			if err := s.remote(n, field, file, base, false); err != nil {
				return false, err
			}
			return true, nil
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if dataFields[n.Content[i].Value] {
				continue
			}
			c, err := s.walk(n.Content[i+1], n.Content[i].Value, file, base)
			if err != nil {
				return false, err
			}
			changed = changed || c
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, e := range n.Content {
			c, err := s.walk(e, field, file, base)
			if err != nil {
				return false, err
			}
			changed = changed || c
		}
	}
	return changed, nil
}

// remote refuses the remote entry n, or fetches it and points n at the local copy; asBase says
// kustomize may open it as a directory (a Git base) rather than only read it as a file.
func (s *remoteScan) remote(n *yaml.Node, field, file, base string, asBase bool) error {
	entry := "entry"
	if field != "" {
		entry = field + " entry"
	}
	if s.fetch == nil {
		return fmt.Errorf("%s: %s '%s' is a remote reference, and remote bases are disabled (enable them with %s)",
			s.rel(file), entry, redactURL(n.Value), AllowRemoteBasesFlag)
	}
	prefix, ref := "", n.Value
	if !remoteForm(ref) {
		k, v, _ := strings.Cut(ref, "=")
		prefix, ref = k+"=", v
	}
	local, isDir, err := s.fetch.get(s.ctx, strings.TrimSpace(ref), asBase)
	if err != nil {
		return fmt.Errorf("%s: %s '%s': %w", s.rel(file), entry, redactURL(n.Value), err)
	}
	rel, err := filepath.Rel(base, local)
	if err != nil {
		return err
	}
	n.Value, n.Style = prefix+filepath.ToSlash(rel), yaml.DoubleQuotedStyle
	if isDir {
		return s.kustomization(local)
	}
	return nil
}

// rel names file as the user knows it: relative to the source root.
func (s *remoteScan) rel(file string) string {
	for _, root := range rootsOf(s.root) {
		if r, ok := within(root, file); ok {
			return filepath.ToSlash(r)
		}
	}
	if s.fetch != nil {
		return s.fetch.name(file)
	}
	return file
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return &yaml.Node{}
	}
	return n
}

// resolveRemote checks the build of dir for remote references before kustomize runs: with
// fetch nil it refuses the first, naming its file and entry; otherwise it fetches each into
// fetch's copies, within the build's time bound, and rewrites its entry in fs to the copy.
func resolveRemote(ctx context.Context, fs filesys.FileSystem, root, dir string, fetch *fetcher) error {
	if fetch != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
	}
	s := &remoteScan{ctx: ctx, fs: fs, root: root, fetch: fetch, seen: map[string]bool{}}
	return s.kustomization(dir)
}
