package build

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	kustypes "sigs.k8s.io/kustomize/api/types"
)

// Warning is something kustomize said about a build that did not fail it.
type Warning struct {
	// Message is kustomize's words, prefixed with the kustomization file they are about when
	// known (e.g. `apps/kustomization.yaml: 'patchesStrategicMerge' is deprecated. Please use
	// 'patches' instead. …`).
	Message string
	// Deprecated says the kustomization file uses a field kustomize deprecated.
	Deprecated bool
}

// Kustomize reports warnings two ways, both process-wide: the standard log package (e.g. vars
// never replaced) and, for deprecated fields, straight to os.Stderr. A build gets its own:
//   - deprecations are found by the build itself, in every kustomization file kustomize reads
//     (deprecatedFields, with kustomize's own check), so each names its file;
//   - the log package's output is sent, once, to stdlog, which hands each line to the build
//     whose goroutine wrote it (kustomize logs synchronously, in the goroutine running it), or
//     to os.Stderr, as before, when no build is running there.
//
// kustomize's own line on os.Stderr for a deprecated field cannot be told from other output
// and still appears there.

// warnings collects the warnings of one build, without repeats (a build that sets a schema
// runs kustomize twice).
type warnings struct {
	mu   sync.Mutex
	list []Warning
}

func (w *warnings) add(msg string, deprecated bool) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	wn := Warning{Message: msg, Deprecated: deprecated}
	if !slices.Contains(w.list, wn) {
		w.list = append(w.list, wn)
	}
}

func (w *warnings) all() []Warning {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.list)
}

// deprecatedFields reports the deprecated fields of a kustomization file named name (relative
// to the source root), with kustomize's messages.
func deprecatedFields(name string, content []byte, w *warnings) {
	var k kustypes.Kustomization
	if err := k.Unmarshal(content); err != nil {
		return // kustomize reports it
	}
	msgs := k.CheckDeprecatedFields()
	if msgs == nil {
		return
	}
	for _, m := range *msgs {
		w.add(fmt.Sprintf("%s: %s", filepath.ToSlash(name), strings.TrimPrefix(m, "# Warning: ")), true)
	}
}

// stdlog routes the log package's output to the builds that wrote it.
var stdlog = &logRouter{builds: map[uint64]*warnings{}}

var routeOnce sync.Once

// routeStdlog sends the log package's output through stdlog, from the first build on.
func routeStdlog() {
	routeOnce.Do(func() {
		stdlog.fallback = log.Writer()
		log.SetOutput(stdlog)
	})
}

// logRouter is the log package's writer: each line goes to the warnings of the build running
// in the writing goroutine.
type logRouter struct {
	mu       sync.Mutex
	builds   map[uint64]*warnings
	fallback io.Writer
}

// enter makes the calling goroutine's log lines w's, until the returned function is called.
func (r *logRouter) enter(w *warnings) (leave func()) {
	id := goroutineID()
	r.mu.Lock()
	r.builds[id] = w
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.builds, id)
		r.mu.Unlock()
	}
}

func (r *logRouter) Write(p []byte) (int, error) {
	r.mu.Lock()
	w, ok := r.builds[goroutineID()]
	fallback := r.fallback
	r.mu.Unlock()
	if !ok {
		if fallback == nil {
			fallback = os.Stderr
		}
		return fallback.Write(p)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(p)), "\n") {
		if line = strings.TrimSpace(logPrefix.ReplaceAllString(line, "")); line != "" {
			w.add(line, false)
		}
	}
	return len(p), nil
}

// logPrefix is the date and time the log package's default flags put before a line.
var logPrefix = regexp.MustCompile(`^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? `)

// goroutineID is the calling goroutine's number, read from its stack header
// ("goroutine 42 [running]:").
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		id, _ := strconv.ParseUint(string(b[:i]), 10, 64)
		return id
	}
	return 0
}
