package local

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRunBuildReportsCompiledPackages runs a stand-in for `go build -v`: the progress lines
// count its package lines, and its failure keeps the other lines (the compiler's errors).
func TestRunBuildReportsCompiledPackages(t *testing.T) {
	defer func(d time.Duration) { progressEvery = d }(progressEvery)
	progressEvery = 20 * time.Millisecond
	var mu sync.Mutex
	var lines []string
	printf := func(f string, a ...any) { mu.Lock(); defer mu.Unlock(); lines = append(lines, fmt.Sprintf(f, a...)) }

	// The script waits until weir has reported its three packages, so the test does not depend
	// on timing: it ends only once a progress line with the count was printed.
	script := `echo k8s.io/api/core/v1; echo sigs.k8s.io/yaml; echo weir.dev/pkg/steps
while [ ! -e "$1" ]; do sleep 0.01; done
echo "# weir.dev/pkg/broken"; echo "pkg/broken/x.go:3:1: syntax error"; exit 2`
	dir := t.TempDir()
	signal := dir + "/seen"
	cmd := exec.Command("sh", "-c", script, "sh", signal)
	watch := func(f string, a ...any) {
		printf(f, a...)
		if strings.Contains(fmt.Sprintf(f, a...), "3 of 40 packages compiled") {
			_ = exec.Command("touch", signal).Run()
		}
	}
	err := runBuild(context.Background(), cmd, "the controllers", 40, watch)
	if err == nil {
		t.Fatal("runBuild returned no error for a failed build")
	}
	if !strings.Contains(err.Error(), "syntax error") || !strings.Contains(err.Error(), "# weir.dev/pkg/broken") {
		t.Errorf("the error lacks the compiler's lines: %v", err)
	}
	if _, output, _ := strings.Cut(err.Error(), "exit status 2\n"); strings.Contains(output, "sigs.k8s.io/yaml") {
		t.Errorf("the error repeats the package lines: %v", err)
	}
}

// TestRunBuildCancelStopsTheWholeBuild cancels a build whose child process would run for ten
// minutes: runBuild returns at once, and the child (make's go build) is gone with it.
func TestRunBuildCancelStopsTheWholeBuild(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	// sh starts a child and waits for it, as make does with go build; the child writes its pid.
	cmd := exec.CommandContext(ctx, "sh", "-c", `sleep 600 & echo $! > "$1"; wait`, "sh", dir+"/pid")
	done := make(chan error, 1)
	go func() { done <- runBuild(ctx, cmd, "x", 0, func(string, ...any) {}) }()
	var pid string
	deadline := time.Now().Add(time.Minute)
	for pid == "" && time.Now().Before(deadline) {
		out, _ := exec.Command("cat", dir+"/pid").Output()
		pid = strings.TrimSpace(string(out))
		time.Sleep(10 * time.Millisecond)
	}
	if pid == "" {
		t.Fatal("the build's child never started")
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatalf("runBuild of a cancelled build returned %v", err)
	}
	// The child was killed with its process group, not left running.
	for time.Now().Before(deadline) {
		if exec.Command("kill", "-0", pid).Run() != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the build's child %s still runs after the build was cancelled", pid)
}
