package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
)

// copyError is a copy operation that cannot be carried out; reason is the Ready reason
// (UnknownAlias, CopyNoMatch, CopyFailed) and the message names the artifact and the operation.
type copyError struct {
	reason string
	msg    string
}

func (e *copyError) Error() string { return e.msg }

// maxMergeSize bounds a YAML file that the Merge strategy parses.
const maxMergeSize = 8 << 20

// buildArtifact carries out out's copy operations in order, from the extracted source trees
// (by alias) into the empty directory dst. Every read goes through an os.Root at a source
// tree and every write through one at dst; `from` and `to` must stay inside their trees.
func buildArtifact(out sourcev1.OutputArtifact, sources map[string]*os.Root, dst *os.Root) error {
	for i, op := range out.Copy {
		where := fmt.Sprintf("artifact '%s': spec.artifacts[name=%s].copy[%d] (from '%s' to '%s')", out.Name, out.Name, i, op.From, op.To)
		if err := copyOne(op, sources, dst); err != nil {
			var ce *copyError
			if errors.As(err, &ce) {
				return &copyError{reason: ce.reason, msg: where + ": " + ce.msg}
			}
			return &copyError{reason: sourcev1.CopyFailedReason, msg: where + ": " + err.Error()}
		}
	}
	return nil
}

// copyMatch is one file a copy operation selected: its path in the source tree and the path
// relative to the destination that it is written at.
type copyMatch struct{ src, rel string }

// copyOne carries out one copy operation.
func copyOne(op sourcev1.CopyOperation, sources map[string]*os.Root, dst *os.Root) error {
	alias, pattern, err := splitFrom(op.From)
	if err != nil {
		return err
	}
	src, ok := sources[alias]
	if !ok {
		return &copyError{reason: sourcev1.UnknownAliasReason, msg: fmt.Sprintf("alias '@%s' is not in spec.sources", alias)}
	}
	to, toDir, err := splitTo(op.To)
	if err != nil {
		return err
	}
	for _, ex := range op.Exclude {
		if _, err := path.Match(ex, ""); err != nil {
			return &copyError{reason: sourcev1.CopyFailedReason, msg: fmt.Sprintf("exclude '%s' is not a valid glob", ex)}
		}
	}
	matches, single, err := selectFiles(src, pattern, op.Exclude)
	if err != nil {
		return err
	}
	if len(matches) == 0 {
		return &copyError{reason: sourcev1.CopyNoMatchReason, msg: fmt.Sprintf("'%s' matches no file of the source", op.From)}
	}
	for _, m := range matches {
		target := path.Join(to, m.rel)
		if !toDir && len(matches) == 1 && (single || hasGlob(pattern)) {
			target = to // one file selected, copied to that name
		}
		if target == "." {
			return &copyError{reason: sourcev1.CopyFailedReason, msg: "'to' must name a file or end with '/'"}
		}
		if err := writeCopy(src, m.src, dst, target, op.Strategy); err != nil {
			return err
		}
	}
	return nil
}

// splitFrom splits `@alias/pattern` into the alias and the cleaned pattern ("" for the root),
// which must stay inside the source tree and be a valid glob.
func splitFrom(from string) (alias, pattern string, err error) {
	rest, ok := strings.CutPrefix(from, "@")
	if !ok {
		return "", "", &copyError{reason: sourcev1.CopyFailedReason, msg: "'from' must start with '@<alias>'"}
	}
	alias, pattern, _ = strings.Cut(rest, "/")
	if alias == "" {
		return "", "", &copyError{reason: sourcev1.CopyFailedReason, msg: "'from' must start with '@<alias>'"}
	}
	if pattern == "" {
		return alias, "", nil
	}
	c := path.Clean(pattern)
	if strings.Contains(pattern, `\`) || !fs.ValidPath(c) {
		return "", "", &copyError{reason: sourcev1.CopyFailedReason, msg: "'from' must be a relative path without '..'"}
	}
	if c == "." {
		return alias, "", nil
	}
	if _, err := path.Match(c, ""); err != nil {
		return "", "", &copyError{reason: sourcev1.CopyFailedReason, msg: "'from' is not a valid glob"}
	}
	return alias, c, nil
}

// splitTo returns the cleaned destination path of `@artifact/path` ("." for the root) and
// whether it names a directory (it ends with "/" or is the root).
func splitTo(to string) (string, bool, error) {
	rest, ok := strings.CutPrefix(to, "@artifact")
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		return "", false, &copyError{reason: sourcev1.CopyFailedReason, msg: "'to' must start with '@artifact/'"}
	}
	rest = strings.TrimPrefix(rest, "/")
	if rest == "" {
		return ".", true, nil
	}
	c := path.Clean(rest)
	if strings.Contains(rest, `\`) || !fs.ValidPath(c) || hasGlob(c) {
		return "", false, &copyError{reason: sourcev1.CopyFailedReason, msg: "'to' must be a relative path without '..' or globs"}
	}
	return c, strings.HasSuffix(rest, "/") || c == ".", nil
}

// selectFiles returns the regular files pattern selects in src, minus the excluded ones, and
// whether pattern names one file (not a glob, not a directory), like `cp -r`:
//   - a glob selects the matching files; each keeps its path below the glob's fixed prefix
//     (`deploy/**` gives `a.yaml`, `x/b.yaml`);
//   - a directory selects everything under it, below a directory of its own name (`deploy`
//     gives `deploy/a.yaml`), except the root, whose contents are selected as they are;
//   - a file selects itself, by its base name.
func selectFiles(src *os.Root, pattern string, exclude []string) ([]copyMatch, bool, error) {
	var (
		base  string // the directory whose relative paths the matches keep
		match func(p string) bool
	)
	single := false
	switch {
	case hasGlob(pattern):
		base = fixedPrefix(pattern)
		match = func(p string) bool { return globMatch(pattern, p) }
	case pattern == "":
		base = "."
		match = func(string) bool { return true }
	default:
		fi, err := src.Stat(pattern)
		if err != nil {
			return nil, false, nil // matches nothing
		}
		if fi.IsDir() {
			base = path.Dir(pattern)
			match = func(p string) bool { return strings.HasPrefix(p, pattern+"/") }
		} else {
			base = path.Dir(pattern)
			single = true
			match = func(p string) bool { return p == pattern }
		}
	}
	walkRoot := base
	var out []copyMatch
	if _, err := src.Stat(walkRoot); err != nil {
		return nil, single, nil
	}
	err := fs.WalkDir(src.FS(), walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !match(p) {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("'%s' is not a regular file", p)
		}
		rel := p
		if base != "." {
			rel = strings.TrimPrefix(p, base+"/")
		}
		if excluded(rel, exclude) {
			return nil
		}
		out = append(out, copyMatch{src: p, rel: rel})
		return nil
	})
	if err != nil {
		return nil, single, err
	}
	return out, single, nil
}

// excluded reports whether rel matches one of the globs: by its whole path, or, for a glob
// without "/", by its base name.
func excluded(rel string, exclude []string) bool {
	for _, ex := range exclude {
		ex = strings.TrimPrefix(ex, "./")
		if globMatch(ex, rel) {
			return true
		}
		if !strings.Contains(ex, "/") {
			if ok, _ := path.Match(ex, path.Base(rel)); ok {
				return true
			}
		}
	}
	return false
}

// hasGlob reports whether p has a glob metacharacter.
func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// fixedPrefix is the directory made of pattern's segments before the first one with a glob
// ("." when the first segment has one).
func fixedPrefix(pattern string) string {
	segs := strings.Split(pattern, "/")
	var fixed []string
	for _, s := range segs[:len(segs)-1] {
		if hasGlob(s) {
			break
		}
		fixed = append(fixed, s)
	}
	if len(fixed) == 0 {
		return "."
	}
	return path.Join(fixed...)
}

// globMatch matches the slash-separated path p against pattern: `**` as a whole segment
// matches any number of segments (none included), other segments as path.Match does.
func globMatch(pattern, p string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchSegments(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			for i := 0; i <= len(segs); i++ {
				if matchSegments(rest, segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], segs[0]); err != nil || !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// writeCopy writes the file from in src to to in dst: it replaces a file there, or, with
// the Merge strategy, merges YAML into it.
func writeCopy(src *os.Root, from string, dst *os.Root, to, strategy string) error {
	if fi, err := dst.Stat(to); err == nil && fi.IsDir() {
		return &copyError{reason: sourcev1.CopyFailedReason, msg: fmt.Sprintf("'%s' is a directory in the artifact", to)}
	}
	if err := dst.MkdirAll(path.Dir(to), artifact.DirMode); err != nil {
		return &copyError{reason: sourcev1.CopyFailedReason, msg: fmt.Sprintf("creating '%s': a file is in the way", path.Dir(to))}
	}
	if strategy == sourcev1.CopyMerge {
		if _, err := dst.Stat(to); err == nil {
			return mergeYAML(src, from, dst, to)
		}
	}
	in, err := src.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := dst.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, artifact.FileMode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// mergeYAML merges the YAML map in from over the one in to, as Helm merges values files.
func mergeYAML(src *os.Root, from string, dst *os.Root, to string) error {
	read := func(r *os.Root, p string) (map[string]any, error) {
		f, err := r.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxMergeSize+1))
		if err != nil {
			return nil, err
		}
		if len(b) > maxMergeSize {
			return nil, &copyError{reason: sourcev1.CopyFailedReason, msg: fmt.Sprintf("'%s' is larger than %d bytes, too large to merge", p, maxMergeSize)}
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, &copyError{reason: sourcev1.CopyFailedReason, msg: fmt.Sprintf("merging: '%s' is not a YAML map: %s", p, firstLine(err.Error()))}
		}
		return m, nil
	}
	base, err := read(dst, to)
	if err != nil {
		return err
	}
	over, err := read(src, from)
	if err != nil {
		return err
	}
	b, err := yaml.Marshal(mergeMaps(base, over))
	if err != nil {
		return err
	}
	return dst.WriteFile(to, b, artifact.FileMode)
}

// mergeMaps merges over into base: maps key by key, every other value replaced.
func mergeMaps(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = mergeMaps(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// contentHash is the sha256 of dir's regular files, by path and content, independent of the
// archive format: the same files always give the same hash.
func contentHash(dir *os.Root) (string, error) {
	type entry struct {
		p    string
		size int64
	}
	var files []entry
	err := fs.WalkDir(dir.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, entry{p, fi.Size()})
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].p < files[j].p })
	h := sha256.New()
	for _, f := range files {
		io.WriteString(h, f.p+"\x00"+strconv.FormatInt(f.size, 10)+"\x00")
		in, err := dir.Open(f.p)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, in)
		in.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
