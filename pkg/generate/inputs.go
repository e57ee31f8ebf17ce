package generate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	setsv1 "weir.dev/api/sets/v1"
)

// Bounds of generation. A set over them is refused before anything is rendered.
const (
	// MaxInputs is the most inputs one set may have.
	MaxInputs = 2000
	// MaxFileBytes is the largest file a files generator reads.
	MaxFileBytes = 1 << 20
)

// Input is one set of values the template is rendered with.
type Input struct {
	// Name identifies the input in status and messages.
	Name string
	// Values are the dot of the template.
	Values map[string]any
}

// Inputs returns the inputs of gens, sorted by name. root is the extracted source artifact,
// nil when the set has no source; a directories or files generator then fails.
func Inputs(gens []setsv1.Generator, root *os.Root) ([]Input, error) {
	var all []Input
	for i, g := range gens {
		field := fmt.Sprintf("spec.generators[%d]", i)
		var ins []Input
		var err error
		if n := count(g.List != nil, g.Directories != nil, g.Files != nil, g.Matrix != nil); n != 1 {
			return nil, fmt.Errorf("%s: set exactly one of list, directories, files, matrix (%d are set)", field, n)
		}
		if g.Matrix != nil {
			ins, err = matrix(field+".matrix", g.Matrix, root)
		} else {
			ins, err = one(field, setsv1.InputGenerator{List: g.List, Directories: g.Directories, Files: g.Files}, root)
		}
		if err != nil {
			return nil, err
		}
		all = append(all, ins...)
		if len(all) > MaxInputs {
			return nil, fmt.Errorf("%s: more than %d inputs", field, MaxInputs)
		}
	}
	slices.SortStableFunc(all, func(a, b Input) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(all); i++ {
		if all[i].Name == all[i-1].Name {
			return nil, fmt.Errorf("two inputs are named %q: give list entries distinct names", all[i].Name)
		}
	}
	return all, nil
}

// one returns the inputs of a single generator.
func one(field string, g setsv1.InputGenerator, root *os.Root) ([]Input, error) {
	if n := count(g.List != nil, g.Directories != nil, g.Files != nil); n != 1 {
		return nil, fmt.Errorf("%s: set exactly one of list, directories, files (%d are set)", field, n)
	}
	switch {
	case g.List != nil:
		return list(field+".list", g.List)
	case g.Directories != nil:
		return paths(field+".directories", g.Directories, root, true)
	case g.Files != nil:
		return paths(field+".files", g.Files, root, false)
	}
	return nil, fmt.Errorf("%s: set one of list, directories, files", field)
}

func count(set ...bool) int {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	return n
}

// matrix returns one input per pair of the two generators' inputs, the second's keys winning.
func matrix(field string, m *setsv1.MatrixGenerator, root *os.Root) ([]Input, error) {
	if len(m.Generators) != 2 {
		return nil, fmt.Errorf("%s.generators: want exactly two, have %d", field, len(m.Generators))
	}
	a, err := one(field+".generators[0]", m.Generators[0], root)
	if err != nil {
		return nil, err
	}
	b, err := one(field+".generators[1]", m.Generators[1], root)
	if err != nil {
		return nil, err
	}
	if len(a)*len(b) > MaxInputs {
		return nil, fmt.Errorf("%s: %d×%d is more than %d inputs", field, len(a), len(b), MaxInputs)
	}
	out := make([]Input, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			v := make(map[string]any, len(x.Values)+len(y.Values))
			for k, val := range x.Values {
				v[k] = val
			}
			for k, val := range y.Values {
				v[k] = val
			}
			out = append(out, Input{Name: x.Name + "+" + y.Name, Values: v})
		}
	}
	return out, nil
}

// list returns the literal inputs; each must be a JSON object.
func list(field string, items []apiextensionsv1.JSON) ([]Input, error) {
	out := make([]Input, 0, len(items))
	for i, raw := range items {
		var v map[string]any
		if err := json.Unmarshal(raw.Raw, &v); err != nil || v == nil {
			return nil, fmt.Errorf("%s[%d]: not a JSON object", field, i)
		}
		name, _ := v["name"].(string)
		if name == "" {
			name = fmt.Sprintf("list[%d]", i)
		}
		out = append(out, Input{Name: name, Values: v})
	}
	return out, nil
}

// paths returns one input per directory (dirs) or per object of each YAML/JSON file matching
// g, read through root.
func paths(field string, g *setsv1.PathGenerator, root *os.Root, dirs bool) ([]Input, error) {
	if root == nil {
		return nil, fmt.Errorf("%s: needs spec.sourceRef", field)
	}
	fsys := root.FS()
	seen := map[string]bool{}
	var matched []string
	for i, pattern := range g.Paths {
		pattern = strings.TrimSuffix(strings.TrimPrefix(pattern, "./"), "/")
		if !fs.ValidPath(pattern) {
			return nil, fmt.Errorf("%s.paths[%d]: %q is not a relative path inside the artifact", field, i, g.Paths[i])
		}
		names, err := fs.Glob(fsys, pattern)
		if err != nil {
			return nil, fmt.Errorf("%s.paths[%d]: %w", field, i, err)
		}
		for _, n := range names {
			if !seen[n] && !excluded(n, g.Exclude) {
				seen[n] = true
				matched = append(matched, n)
			}
		}
	}
	slices.Sort(matched)
	var out []Input
	for _, p := range matched {
		info, err := fs.Stat(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", field, p, err)
		}
		if dirs {
			if info.IsDir() {
				out = append(out, Input{Name: p, Values: pathValues(p, nil)})
			}
		} else if info.Mode().IsRegular() && isData(p) {
			ins, err := fileInputs(fsys, p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			out = append(out, ins...)
		}
		if len(out) > MaxInputs {
			return nil, fmt.Errorf("%s: more than %d inputs", field, MaxInputs)
		}
	}
	return out, nil
}

func excluded(p string, exclude []string) bool {
	for _, e := range exclude {
		if ok, _ := path.Match(strings.TrimSuffix(strings.TrimPrefix(e, "./"), "/"), p); ok {
			return true
		}
	}
	return false
}

func isData(p string) bool {
	switch path.Ext(p) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// fileInputs reads one file, bounded, as an object or a list of objects.
func fileInputs(fsys fs.FS, p string) ([]Input, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, MaxFileBytes)
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	switch t := v.(type) {
	case map[string]any:
		return []Input{{Name: p, Values: pathValues(p, t)}}, nil
	case []any:
		out := make([]Input, 0, len(t))
		for i, item := range t {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: item %d is not an object", p, i)
			}
			out = append(out, Input{Name: fmt.Sprintf("%s[%d]", p, i), Values: pathValues(p, m)})
		}
		return out, nil
	case nil:
		return nil, nil
	}
	return nil, errors.New(p + ": neither an object nor a list of objects")
}

// pathValues adds path, basename and segments to values, unless they are set.
func pathValues(p string, values map[string]any) map[string]any {
	if values == nil {
		values = map[string]any{}
	}
	segs := strings.Split(p, "/")
	segments := make([]any, len(segs))
	for i, s := range segs {
		segments[i] = s
	}
	for k, v := range map[string]any{"path": p, "basename": path.Base(p), "segments": segments} {
		if _, ok := values[k]; !ok {
			values[k] = v
		}
	}
	return values
}
