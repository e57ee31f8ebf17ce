package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// controllerNames are the four controllers, each a module of the same name in the repository.
var controllerNames = []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"}

// FindRepoRoot returns the nearest directory at or above dir that holds go.work, or "" when
// there is none.
func FindRepoRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// testbin returns root's bin/, which holds etcd and kube-apiserver, after building them
// with `make testbin` when either is missing.
func testbin(ctx context.Context, root string, log func(string, ...any)) (string, error) {
	dir := filepath.Join(root, "bin")
	if missing := missingFiles(dir, "etcd", "kube-apiserver"); len(missing) > 0 {
		log("building %s with `make testbin` (once per checkout; several minutes)", strings.Join(missing, " and "))
		cmd := exec.CommandContext(ctx, "make", "-C", root, "testbin")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("make testbin: %w\n%s", err, out)
		}
	}
	return dir, nil
}

// buildControllers builds the four controllers of root into root's bin/, in parallel, with
// go build's defaults, as the tests build them, so the packages the test suite compiled are
// reused (-trimpath or CGO_ENABLED=0 would recompile every dependency: over five minutes cold
// on two cores). It returns their paths by name.
func buildControllers(ctx context.Context, root string) (map[string]string, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	bins := map[string]string{}
	for _, name := range controllerNames {
		out := filepath.Join(root, "bin", name)
		bins[name] = out
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, "go", "build", "-o", out, ".")
			cmd.Dir = filepath.Join(root, name)
			if o, err := cmd.CombinedOutput(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("go build %s: %w\n%s", name, err, o))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return bins, errors.Join(errs...)
}

func missingFiles(dir string, names ...string) []string {
	var missing []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			missing = append(missing, n)
		}
	}
	return missing
}
