package local

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

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

// makeBuild is a binary of bin/ that the Makefile builds (with the Kubernetes version flags
// only it knows), with what it compiles for the progress count.
type makeBuild struct {
	name string
	pkgs goPackages
}

// kubeBuild is a binary built from the k8s.io/kubernetes tools module.
func kubeBuild(root, name string) makeBuild {
	return makeBuild{name, goPackages{Dir: filepath.Join(root, "tools", "kube"),
		Env: append(buildEnv(), "GOWORK=off"), Pkgs: []string{"k8s.io/kubernetes/cmd/" + name}}}
}

// testbin returns root's bin/, which holds etcd and kube-apiserver, after building the missing
// ones with make (once per checkout), printing where the build is as it goes.
func testbin(ctx context.Context, root string, printf func(string, ...any)) (string, error) {
	dir := filepath.Join(root, "bin")
	etcd := makeBuild{"etcd", goPackages{Dir: filepath.Join(root, "tools", "etcd"),
		Env: append(buildEnv(), "GOWORK=off"), Pkgs: []string{"go.etcd.io/etcd/server/v3"}}}
	return dir, makeMissing(ctx, root, printf, etcd, kubeBuild(root, "kube-apiserver"))
}

// makeMissing builds, one after the other, those of builds bin/ lacks: one at a time, so that
// the packages they share are compiled once and then taken from the Go build cache.
func makeMissing(ctx context.Context, root string, printf func(string, ...any), builds ...makeBuild) error {
	var missing []makeBuild
	for _, b := range builds {
		if _, err := os.Stat(filepath.Join(root, "bin", b.name)); err != nil {
			missing = append(missing, b)
		}
	}
	for i, b := range missing {
		t := time.Now()
		if i == 0 {
			printf("  … first run: building %s into bin/ from the Go module proxy (minutes, once; later runs reuse them)\n",
				strings.Join(names(missing), ", "))
		}
		total := b.pkgs.stale(ctx)
		printf("  … [%d/%d] building %s (%d packages to compile)\n", i+1, len(missing), b.name, total)
		cmd := exec.CommandContext(ctx, "make", "-C", root, "GOFLAGS=-trimpath -v", filepath.Join(root, "bin", b.name))
		cmd.Env = buildEnv()
		if err := runBuild(ctx, cmd, b.name, total, printf); err != nil {
			return err
		}
		printf("  ✓ %s built (%s)\n", b.name, since(t))
	}
	return nil
}

func names(builds []makeBuild) []string {
	var n []string
	for _, b := range builds {
		n = append(n, b.name)
	}
	return n
}

// buildControllers builds the four controllers of root into root's bin/ with one go build, so
// each shared package is compiled once, and with the flags of `make test` and `make images`
// (static, -trimpath), so the packages the test suite compiled are reused. It returns their
// paths by name.
func buildControllers(ctx context.Context, root string, printf func(string, ...any)) (map[string]string, error) {
	bins := map[string]string{}
	args := []string{"build", "-o", filepath.Join(root, "bin") + string(filepath.Separator)}
	var pkgs []string
	for _, name := range controllerNames {
		bins[name] = filepath.Join(root, "bin", name)
		pkgs = append(pkgs, "./"+name)
	}
	env := buildEnv()
	total := goPackages{Dir: root, Env: env, Pkgs: pkgs}.stale(ctx)
	if total > 50 {
		printf("  … %d packages to compile for the controllers (a first build takes minutes; later ones seconds)\n", total)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
	cmd.Dir, cmd.Env = root, verboseGoFlags(env)
	if err := runBuild(ctx, cmd, "the controllers", total, printf); err != nil {
		return nil, err
	}
	return bins, nil
}
