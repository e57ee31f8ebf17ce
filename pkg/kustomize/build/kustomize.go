package build

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

// kustomize keeps global state: the OpenAPI schema it merges patches with, which a
// kustomization.yaml may replace (its openapi field), and maps it is known to write without
// locks (kubernetes-sigs/kustomize#3659). Builds therefore run one at a time.
//
// Parsing the built-in schema costs about 70 ms, thirty times a small build, so unlike a reset
// before every build the parsed schema is kept while builds leave it alone, and reset only after
// a build that read a file naming an openapi schema or left a schema version set. Every build
// therefore starts from the built-in schema, as if it were the first.
var (
	kustomizeMu sync.Mutex
	// defaultSchemaVersion is what the schema reports while no build has changed it.
	defaultSchemaVersion = openapi.GetSchemaVersion()
)

// runKustomize builds dir in fs with every plugin off and files loadable from anywhere in fs
// (fs itself confines them to the source root).
func runKustomize(fs *tracingFS, dir string) (res resmap.ResMap, err error) {
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	// kustomize panics on some malformed input; a build must fail, not the controller.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kustomize failed: %v", r)
		}
	}()
	defer func() {
		if fs.sawOpenAPI || openapi.GetSchemaVersion() != defaultSchemaVersion {
			openapi.ResetOpenAPI()
		}
	}()
	_ = openapi.Schema() // parses the built-in schema unless it is already
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	return k.Run(fs, dir)
}

// openAPIField marks a file that may set kustomize's schema.
var openAPIField = []byte("openapi")

// tracingFS is the filesystem of one build. It passes every call to fs and, when trace is set,
// records what each read returned, with paths relative to root so a trace can be replayed on
// another extraction of the same source.
type tracingFS struct {
	filesys.FileSystem
	roots []string // the root as given and with its symbolic links resolved
	trace *Trace
	// sawOpenAPI is set when a file read mentions openapi: the build may change the schema.
	sawOpenAPI bool
}

func (f *tracingFS) Exists(p string) bool {
	ok := f.FileSystem.Exists(p)
	f.record(opExists, p, boolSum(ok))
	return ok
}

func (f *tracingFS) IsDir(p string) bool {
	ok := f.FileSystem.IsDir(p)
	f.record(opIsDir, p, boolSum(ok))
	return ok
}

func (f *tracingFS) ReadFile(p string) ([]byte, error) {
	b, err := f.FileSystem.ReadFile(p)
	if err == nil && bytes.Contains(b, openAPIField) {
		f.sawOpenAPI = true
	}
	f.record(opReadFile, p, bytesSum(b, err))
	return b, err
}

func (f *tracingFS) ReadDir(p string) ([]string, error) {
	names, err := f.FileSystem.ReadDir(p)
	f.record(opReadDir, p, namesSum(names, err, nil))
	return names, err
}

func (f *tracingFS) Glob(pattern string) ([]string, error) {
	matches, err := f.FileSystem.Glob(pattern)
	f.record(opGlob, pattern, namesSum(matches, err, f.rel))
	return matches, err
}

func (f *tracingFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	dir, file, err := f.FileSystem.CleanedAbs(p)
	f.record(opCleanedAbs, p, namesSum([]string{string(dir), file}, err, f.rel))
	return dir, file, err
}

// Calls whose results a trace cannot replay make the build untraceable; kustomize builds of
// plain directories do not make them.

func (f *tracingFS) Open(p string) (filesys.File, error) {
	f.untraceable()
	return f.FileSystem.Open(p)
}

func (f *tracingFS) Walk(p string, fn filepath.WalkFunc) error {
	f.untraceable()
	return f.FileSystem.Walk(p, fn)
}

func (f *tracingFS) Create(p string) (filesys.File, error) {
	f.untraceable()
	return f.FileSystem.Create(p)
}

func (f *tracingFS) Mkdir(p string) error {
	f.untraceable()
	return f.FileSystem.Mkdir(p)
}

func (f *tracingFS) MkdirAll(p string) error {
	f.untraceable()
	return f.FileSystem.MkdirAll(p)
}

func (f *tracingFS) RemoveAll(p string) error {
	f.untraceable()
	return f.FileSystem.RemoveAll(p)
}

func (f *tracingFS) WriteFile(p string, data []byte) error {
	f.untraceable()
	return f.FileSystem.WriteFile(p, data)
}

func (f *tracingFS) untraceable() {
	if f.trace != nil {
		f.trace.replayable = false
	}
}

// rel returns p relative to the root, ok false when p is outside it (a remote base's clone).
func (f *tracingFS) rel(p string) (string, bool) {
	for _, root := range f.roots {
		if r, ok := within(root, p); ok {
			return r, true
		}
	}
	return "", false
}

func (f *tracingFS) record(kind opKind, p string, sum [32]byte) {
	if f.trace == nil || !f.trace.replayable {
		return
	}
	rel, ok := f.rel(p)
	if !ok {
		f.trace.replayable = false
		return
	}
	f.trace.ops = append(f.trace.ops, traceOp{kind: kind, path: rel, sum: sum})
}
