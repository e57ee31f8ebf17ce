package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/kustomize/count"
)

// Parsing the built-in schema costs about 70 ms, thirty times a small build, so the parsed
// schema is kept while builds leave it alone, and reset only after a build that set one (which
// holds schemaLock alone). Every build therefore starts from the built-in schema, as if it were
// the first.

// errStillRunning refuses a build while the same unit's previous run of kustomize goes on.
var errStillRunning = &Error{kustomizev1.BuildTimeoutReason,
	errors.New("the previous build of this Kustomization is still running past spec.timeout; the next attempt waits for it to end")}

// runKustomize builds dir in fs with every plugin off and files loadable from anywhere in fs
// (fs itself confines them to the source root). It returns when ctx ends even if kustomize
// has not: kustomize then stops at its next file read, or runs on alone until its work is done,
// holding only its unit (key) and the shared schemaLock. It runs kustomize with the shared lock
// first and again with the exclusive one when the build turns out to set a schema.
func runKustomize(ctx context.Context, fs *tracingFS, dir, key string) (resmap.ResMap, error) {
	release, ok := claim(key)
	if !ok {
		return nil, errStillRunning
	}
	type result struct {
		res resmap.ResMap
		err error
	}
	done := make(chan result, 1)
	routeStdlog()
	go func() {
		defer release()
		defer stdlog.enter(fs.warnings)()
		mark := fs.mark()
		res, err := runLocked(ctx, fs, dir, false)
		if fs.setsSchema {
			fs.rewind(mark)
			res, err = runLocked(ctx, fs, dir, true)
		}
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runLocked runs kustomize holding schemaLock, alone when exclusive.
func runLocked(ctx context.Context, fs *tracingFS, dir string, exclusive bool) (res resmap.ResMap, err error) {
	unlock, err := lockSchema(ctx, exclusive)
	if err != nil {
		return nil, err
	}
	defer unlock()
	fs.exclusive = exclusive
	// kustomize panics on some malformed input; a build must fail, not the controller.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kustomize failed: %v", r)
		}
	}()
	if exclusive {
		defer openapi.ResetOpenAPI()
	}
	_ = openapi.Schema() // parses the built-in schema unless it is already
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	res, err = k.Run(fs, dir)
	if fs.refused != nil {
		return nil, fs.refused
	}
	return res, err
}

// openAPIField marks a kustomization file that may set kustomize's schema (its fields are
// matched case-insensitively).
var openAPIField = []byte("openapi")

// kustomizationFiles are the names kustomize reads a kustomization from.
var kustomizationFiles = konfig.RecognizedKustomizationFileNames()

// tracingFS is the filesystem of one build. It passes every call to fs and, when trace is set,
// records what each read returned, with paths relative to root so a trace can be replayed on
// another extraction of the same source. Every call fails once ctx has ended, and a read fails
// when it would set kustomize's schema under the shared lock or take the build past maxObjects:
// that is where kustomize can be stopped.
type tracingFS struct {
	filesys.FileSystem
	ctx   context.Context
	roots []string // the root as given and with its symbolic links resolved
	trace *Trace
	// readCap is the most objects (see count.Objects) the files read may hold; 0 for no cap.
	readCap int
	// objectCap is the cap of the unit the messages name.
	objectCap int
	read      int
	// exclusive says the build holds schemaLock alone; setsSchema that it needs to, for a
	// kustomization file it read sets the schema.
	exclusive, setsSchema bool
	// refused is why a read failed, reported instead of kustomize's error.
	refused error
	// warnings collects what kustomize warned about (see warnings.go).
	warnings *warnings
}

// mark and rewind let a build run again on the same filesystem, as if it had not run.
func (f *tracingFS) mark() int {
	if f.trace == nil {
		return 0
	}
	return len(f.trace.ops)
}

func (f *tracingFS) rewind(mark int) {
	if f.trace != nil {
		f.trace.ops = f.trace.ops[:mark]
	}
	f.read, f.setsSchema, f.refused = 0, false, nil
}

// errBuildEnded fails the filesystem calls of a build whose caller stopped waiting.
var errBuildEnded = errors.New("the build's time is up")

// ended reports whether the build's caller stopped waiting.
func (f *tracingFS) ended() bool { return f.ctx != nil && f.ctx.Err() != nil }

func (f *tracingFS) Exists(p string) bool {
	if f.ended() {
		return false
	}
	ok := f.FileSystem.Exists(p)
	f.record(opExists, p, boolSum(ok))
	return ok
}

func (f *tracingFS) IsDir(p string) bool {
	if f.ended() {
		return false
	}
	ok := f.FileSystem.IsDir(p)
	f.record(opIsDir, p, boolSum(ok))
	return ok
}

func (f *tracingFS) ReadFile(p string) ([]byte, error) {
	if f.ended() {
		return nil, errBuildEnded
	}
	b, err := f.FileSystem.ReadFile(p)
	if err != nil {
		f.record(opReadFile, p, bytesSum(b, err))
		return b, err
	}
	if !f.exclusive && slices.Contains(kustomizationFiles, filepath.Base(p)) && bytes.Contains(bytes.ToLower(b), openAPIField) {
		f.setsSchema = true
		return nil, errors.New("the build sets an OpenAPI schema: it runs again alone")
	}
	if f.readCap > 0 {
		if f.read += count.Objects(b, f.readCap-f.read); f.read > f.readCap {
			name, _ := f.rel(p)
			f.refused = &Error{kustomizev1.TooManyObjectsReason, fmt.Errorf(
				"%s: the build reads more than %d objects, twice the %d allowed per Kustomization (kustomize-controller --max-objects-per-unit)",
				filepath.ToSlash(name), f.readCap, f.objectCap)}
			return nil, f.refused
		}
	}
	if slices.Contains(kustomizationFiles, filepath.Base(p)) {
		if name, ok := f.rel(p); ok {
			deprecatedFields(name, b, f.warnings)
		}
	}
	f.record(opReadFile, p, bytesSum(b, err))
	return b, err
}

func (f *tracingFS) ReadDir(p string) ([]string, error) {
	if f.ended() {
		return nil, errBuildEnded
	}
	names, err := f.FileSystem.ReadDir(p)
	f.record(opReadDir, p, namesSum(names, err, nil))
	return names, err
}

func (f *tracingFS) Glob(pattern string) ([]string, error) {
	if f.ended() {
		return nil, errBuildEnded
	}
	matches, err := f.FileSystem.Glob(pattern)
	f.record(opGlob, pattern, namesSum(matches, err, f.rel))
	return matches, err
}

func (f *tracingFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	if f.ended() {
		return "", "", errBuildEnded
	}
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
