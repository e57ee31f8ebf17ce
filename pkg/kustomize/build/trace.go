package build

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// A Trace is what one build read, as digests: the kustomization.yaml it used (found or
// generated), the answer to every filesystem call kustomize made, the Kustomization's spec and
// the postBuild variables. A build is a function of these alone, so when each call gives the
// same answer on another extraction of the source, and the spec and variables are the same,
// building there gives the same objects: Matches answers that by replaying the calls, without
// running kustomize.
//
// A trace holds digests and paths, never content. Builds that decrypt, or that read outside the
// source root (remote bases), are not replayable: Matches is false for them.
type Trace struct {
	replayable bool
	manifest   [32]byte // the kustomization.yaml used and where
	input      [32]byte // the spec, name, namespace and variables
	ops        []traceOp
}

type opKind uint8

const (
	opExists opKind = iota
	opIsDir
	opReadFile
	opReadDir
	opGlob
	opCleanedAbs
)

// traceOp is one filesystem call, its path relative to the root and a digest of its answer.
type traceOp struct {
	kind opKind
	path string
	sum  [32]byte
}

// Len is how many filesystem calls the trace holds.
func (t *Trace) Len() int { return len(t.ops) }

// Replayable reports whether Matches can answer for t's build: false for builds that decrypt
// or read outside the source root.
func (t *Trace) Replayable() bool { return t != nil && t.replayable }

// start empties t for a new build.
func (t *Trace) start(manifest [32]byte) {
	t.replayable, t.manifest, t.input, t.ops = true, manifest, [32]byte{}, t.ops[:0]
}

// Matches reports whether Build(ctx, root, ks, opts) would return the objects of the build
// that recorded t. It reads the few files the build read (and the substituteFrom objects), not
// the whole tree. It does not check the tree against the build's limits: call Guard first.
func (t *Trace) Matches(ctx context.Context, root string, ks *kustomizev1.Kustomization, opts Options) bool {
	if t == nil || !t.replayable || opts.Decrypter != nil {
		return false
	}
	dir, err := securePath(root, cleanPath(ks.Spec.Path))
	if err != nil {
		return false
	}
	spec, err := asUnstructured(ks)
	if err != nil {
		return false
	}
	manifest, kfile, _, err := generate(root, dir, spec)
	if err != nil {
		return false
	}
	fs, err := newFS(root, nil, kfile, manifest)
	if err != nil {
		return false
	}
	replay := &tracingFS{FileSystem: fs, roots: rootsOf(root)}
	if replay.manifestSum(kfile, manifest) != t.manifest {
		return false
	}
	for _, op := range t.ops {
		p := filepath.Join(root, op.path)
		var sum [32]byte
		switch op.kind {
		case opExists:
			sum = boolSum(fs.Exists(p))
		case opIsDir:
			sum = boolSum(fs.IsDir(p))
		case opReadFile:
			sum = bytesSum(fs.ReadFile(p))
		case opReadDir:
			names, err := fs.ReadDir(p)
			sum = namesSum(names, err, nil)
		case opGlob:
			matches, err := fs.Glob(p)
			sum = namesSum(matches, err, replay.rel)
		case opCleanedAbs:
			d, f, err := fs.CleanedAbs(p)
			sum = namesSum([]string{string(d), f}, err, replay.rel)
		}
		if sum != op.sum {
			return false
		}
	}
	vars, err := variables(ctx, opts.Client, ks, spec)
	if err != nil {
		return false
	}
	return inputSum(ks, vars) == t.input
}

// manifestSum digests the kustomization.yaml a build uses and its place in the tree.
func (f *tracingFS) manifestSum(kfile string, manifest []byte) [32]byte {
	rel, _ := f.rel(kfile)
	h := sha256.New()
	h.Write([]byte(rel))
	h.Write([]byte{0})
	h.Write(manifest)
	return [32]byte(h.Sum(nil))
}

// inputSum digests what a build takes besides files: the spec, the Kustomization's name and
// namespace, and the substitution variables (nil when substitution is off).
func inputSum(ks *kustomizev1.Kustomization, vars *unstructured.Unstructured) [32]byte {
	h := sha256.New()
	spec, _ := json.Marshal(ks.Spec)
	h.Write(spec)
	h.Write([]byte("\x00" + ks.Namespace + "\x00" + ks.Name + "\x00"))
	if vars != nil {
		m, _, _ := unstructured.NestedStringMap(vars.Object, "spec", "postBuild", "substitute")
		for _, k := range slices.Sorted(maps.Keys(m)) {
			h.Write([]byte(k + "=" + m[k] + "\x00"))
		}
	}
	return [32]byte(h.Sum(nil))
}

func boolSum(b bool) [32]byte {
	if b {
		return [32]byte{1}
	}
	return [32]byte{}
}

// errSum stands for any failed read: the error's text may name the root.
var errSum = sha256.Sum256([]byte("error"))

func bytesSum(b []byte, err error) [32]byte {
	if err != nil {
		return errSum
	}
	return sha256.Sum256(b)
}

// namesSum digests a list of names or paths; rel, when set, makes paths relative to the root
// first (a path outside it keeps its absolute form, which no other root shares).
func namesSum(names []string, err error, rel func(string) (string, bool)) [32]byte {
	if err != nil {
		return errSum
	}
	h := sha256.New()
	for _, n := range names {
		if rel != nil {
			if r, ok := rel(n); ok {
				n = r
			} else {
				n = "\x00" + n
			}
		}
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return [32]byte(h.Sum(nil))
}

// within returns p relative to root when p is root or below it.
func within(root, p string) (string, bool) {
	if p == root {
		return ".", true
	}
	if rest, ok := strings.CutPrefix(p, root+string(filepath.Separator)); ok {
		return rest, true
	}
	return "", false
}

// rootsOf is root as given and, when different, with its symbolic links resolved: the
// filesystem may answer with either.
func rootsOf(root string) []string {
	roots := []string{root}
	if real, err := filepath.EvalSymlinks(root); err == nil && real != root {
		roots = append(roots, real)
	}
	return roots
}

// newFS is a build's filesystem: the tree under root, read-only and confined to it (and to the
// copies of fetch, when set), under an in-memory layer holding the kustomization.yaml the
// build uses at kfile and the entries rewritten to point at the copies. Nothing is ever written
// to the tree.
func newFS(root string, fetch *fetcher, kfile string, manifest []byte) (filesys.FileSystem, error) {
	var allowed []string
	if fetch != nil {
		allowed = append(allowed, fetch.dir+string(filepath.Separator))
	}
	disk, err := securefs.MakeFsOnDiskSecure(root, allowed...)
	if err != nil {
		return nil, err
	}
	fs := securefs.MakeFsInMemory(disk)
	if err := fs.WriteFile(kfile, manifest); err != nil {
		return nil, err
	}
	return fs, nil
}
