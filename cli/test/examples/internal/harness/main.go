package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/cli/internal/local"
)

// WeirNamespace is the namespace `weir install` creates, where the examples' cluster entry
// points put their sources, Kustomizations and notifications.
const WeirNamespace = "weir-system"

// Main starts one local Weir with opts (Dir and Out are Main's) for the whole test package,
// sets *env, runs the tests and stops it. On a failure it prints Up's progress and the tail of
// each controller's log.
func Main(m *testing.M, opts local.Options, env **local.Env) {
	os.Exit(run(m, opts, env))
}

func run(m *testing.M, opts local.Options, envp **local.Env) int {
	// envtest logs through controller-runtime; Up's progress and the controllers' logs say enough.
	ctrllog.SetLogger(logr.Discard())
	dir, err := os.MkdirTemp("", "weir-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Generous: on a cold machine Up builds the four controllers first.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	out := &progress{}
	opts.Dir, opts.Out = filepath.Join(dir, "local"), out
	start := time.Now()
	env, err := local.Up(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "weir local up: %v\n%s", err, out)
		return 1
	}
	*envp = env
	fmt.Printf("weir local up in %s\n", time.Since(start).Round(time.Millisecond))
	// `weir install` creates Weir's namespace; the local mode runs the controllers as processes.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: WeirNamespace}}
	if err := env.Client.Create(ctx, ns); err != nil {
		fmt.Fprintf(os.Stderr, "creating namespace %s: %v\n", WeirNamespace, err)
		_ = env.Stop()
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "weir local output:\n%s", out)
		for _, c := range env.Controllers {
			if b, err := os.ReadFile(c.LogPath); err == nil {
				fmt.Fprintf(os.Stderr, "--- %s log (tail)\n%s\n", c.Name, tail(string(b), 25))
			}
		}
	}
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping weir local:", err)
	}
	return code
}

// progress collects Up's output, shown when something fails.
type progress struct {
	mu sync.Mutex
	b  strings.Builder
}

func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.Write(b)
}

func (p *progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
