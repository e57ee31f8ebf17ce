// Package localtest runs one local Weir (package local) for a whole test package: the
// TestMain of the end-to-end suites, which share its start, its bounds and what it prints when
// a test fails.
//
// It is test support: only _test.go files and test harnesses import it.
package localtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"weir.dev/cli/internal/local"
	"weir.dev/pkg/testenv"
)

// upTimeout bounds Up: generous, since on a cold machine it builds the four controllers first.
const upTimeout = 15 * time.Minute

// Run starts a local Weir with opts in a temporary directory (Run sets opts.Dir and opts.Out),
// sets *env, calls setup when it is not nil, runs the tests and stops Weir. When the start, the
// setup or a test fails it prints Up's progress and the tail of kube-apiserver's log and of
// each controller's. It returns the exit code for os.Exit.
func Run(m *testing.M, opts local.Options, env **local.Env, setup func(*local.Env) error) int {
	dir, err := os.MkdirTemp("", "weir-local-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	out := &Progress{}
	opts.Dir, opts.Out = filepath.Join(dir, "local"), out
	start := time.Now()
	e, err := local.Up(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "weir local up: %v\n%s", err, out)
		return 1
	}
	*env = e
	fmt.Printf("weir local up in %s\n", time.Since(start).Round(time.Millisecond))
	code := 1
	if setup == nil {
		code = m.Run()
	} else if err := setup(e); err != nil {
		fmt.Fprintf(os.Stderr, "setting up the test package: %v\n", err)
	} else {
		code = m.Run()
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "weir local output:\n%s", out)
		PrintLogs(e)
	}
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping weir local:", err)
	}
	return code
}

// PrintLogs prints the last 30 lines of kube-apiserver's log and of each controller's to
// stderr.
func PrintLogs(e *local.Env) {
	paths := []struct{ name, path string }{{"kube-apiserver", filepath.Join(e.Dir, "kube-apiserver.log")}}
	for _, c := range e.Controllers {
		paths = append(paths, struct{ name, path string }{c.Name, c.LogPath})
	}
	for _, p := range paths {
		if b, err := os.ReadFile(p.path); err == nil {
			fmt.Fprintf(os.Stderr, "--- %s log (tail)\n%s\n", p.name, Tail(string(b), 30))
		}
	}
}

// Progress collects Up's output, shown when something fails; it is safe for concurrent use.
type Progress struct {
	mu sync.Mutex
	b  strings.Builder
}

func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.Write(b)
}

func (p *Progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.String()
}

// Tail is the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Eventually calls check until it returns nil (testenv.Eventually) and fails t after timeout
// with check's last error, prefixed with what was awaited.
func Eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := check(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}
