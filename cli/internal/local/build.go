package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"weir.dev/cli/internal/install"
)

// controllerNames are the four controllers, each a module of the same name in the repository.
var controllerNames = install.Controllers

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

// buildControllers builds the four controllers of root into root's bin/ with one go build, so
// each shared package is compiled once, and with the flags of `make test` and `make images`
// (static, -trimpath), so the packages the test suite compiled are reused. It returns their
// paths by name.
func buildControllers(ctx context.Context, root string) (map[string]string, error) {
	bins := map[string]string{}
	args := []string{"build", "-trimpath", "-o", filepath.Join(root, "bin") + string(filepath.Separator)}
	for _, name := range controllerNames {
		bins[name] = filepath.Join(root, "bin", name)
		args = append(args, "./"+name)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return bins, nil
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
