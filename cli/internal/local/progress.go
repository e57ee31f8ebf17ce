package local

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// progressEvery is how often a running build prints where it is.
var progressEvery = 15 * time.Second

// goPackages is what a build compiles, for counting: the packages (or Go-module-relative
// patterns) it builds, listed from Dir with the same environment as the build.
type goPackages struct {
	Dir  string
	Env  []string
	Pkgs []string
}

// stale returns how many packages the build of p still has to compile (its dependencies the
// Go build cache does not hold, its own packages included), or 0 when go list cannot tell,
// e.g. before the modules are downloaded.
func (p goPackages) stale(ctx context.Context) int {
	if len(p.Pkgs) == 0 {
		return 0
	}
	args := append([]string{"list", "-deps", "-f", "{{if .Stale}}x{{end}}"}, p.Pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = p.Dir, p.Env
	out, err := cmd.Output()
	if err != nil {
		return 0
	}
	return strings.Count(string(out), "x")
}

// runBuild runs cmd, a go build or a make target running go build with -v, and prints every
// progressEvery how many packages of total it has compiled, so a first run, which compiles
// every dependency once, says where it is instead of waiting silently. total 0 means unknown.
// Its output is returned with the error when it fails.
func runBuild(ctx context.Context, cmd *exec.Cmd, what string, total int, printf func(string, ...any)) error {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var compiled atomic.Int64
	var tail strings.Builder
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			// go build -v names each package it compiles, one import path per line; anything
			// else (make's echo, compiler errors) is kept for the error message.
			if line != "" && !strings.ContainsAny(line, " \t:") && !strings.HasPrefix(line, "#") {
				compiled.Add(1)
				continue
			}
			if tail.Len() < 64<<10 {
				tail.WriteString(line + "\n")
			}
		}
	}()
	// Its own process group: Ctrl-C reaches weir, which stops the build through ctx, and the
	// whole group (make and the go commands it starts) ends with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	cancelled := ctx.Done()
	for {
		select {
		case err := <-done:
			pw.Close()
			<-scanned
			if err != nil {
				return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, tail.String())
			}
			return nil
		case <-tick.C:
			n := int(compiled.Load())
			switch {
			case total > 0 && total <= 10:
				printf("  … building %s (%s)\n", what, since(start))
			case total > 0:
				printf("  … building %s: %d of %d packages compiled (%s)\n", what, min(n, total), total, since(start))
			case n > 0:
				printf("  … building %s: %d packages compiled (%s)\n", what, n, since(start))
			default:
				printf("  … building %s: downloading modules (%s)\n", what, since(start))
			}
		case <-cancelled:
			// Stop the build's whole process group, then wait for it to end.
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cancelled = nil
		}
	}
}

// verboseGoFlags returns env with GOFLAGS set to the build's flags plus -v.
func verboseGoFlags(env []string) []string {
	flags := "-trimpath -v"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok && v != "" {
			flags = v + " -v"
		}
	}
	return append(env, "GOFLAGS="+flags)
}

// buildEnv is the environment of every build the local mode runs: the flags of `make test`
// and `make images` (static, -trimpath), so the packages they compiled are reused.
func buildEnv() []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=-trimpath")
}
