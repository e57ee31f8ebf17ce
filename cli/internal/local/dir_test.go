package local

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestClaimDir(t *testing.T) {
	// A process that has exited, so its pid is (for this test's short life) not in use.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		setup   func(dir string)
		wantErr string
	}{
		{"a new dir", func(string) {}, ""},
		{"an empty dir", func(dir string) { mustMkdir(t, dir) }, ""},
		{"the dir of a live weir local", func(dir string) { writePID(t, dir, os.Getpid(), "kubeconfig") }, "already runs in"},
		{"the dir of a weir local that is gone", func(dir string) { writePID(t, dir, gone.Process.Pid, "kubeconfig") }, ""},
		{"a dir kept by --keep", func(dir string) { writePID(t, dir, 0, "kubeconfig"); os.Remove(pidFile(dir)) }, "not empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "local")
			tc.setup(dir)
			err := claimDir(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("claimDir: %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("claimDir: %v", err)
			}
			if pid, err := readPID(dir); err != nil || pid != os.Getpid() {
				t.Errorf("pid file holds %d (%v), want %d", pid, err, os.Getpid())
			}
			if _, err := os.Stat(filepath.Join(dir, "kubeconfig")); !os.IsNotExist(err) {
				t.Errorf("what the gone process left was not cleared: %v", err)
			}
		})
	}
}

func TestDownStopsTheProcessOfThePIDFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Down(dir, time.Second); err == nil || !strings.Contains(err.Error(), "no weir local runs in") {
		t.Errorf("Down without a pid file: %v", err)
	}
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = sleep.Wait(); close(exited) }()
	writePID(t, dir, sleep.Process.Pid)
	// Down waits for the process to disappear; this test is its parent, so reap it meanwhile.
	pid, err := Down(dir, 10*time.Second)
	if err != nil || pid != sleep.Process.Pid {
		t.Fatalf("Down: pid %d, %v", pid, err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the process did not exit")
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// writePID creates dir with a pid file of pid and the named empty files.
func writePID(t *testing.T, dir string, pid int, files ...string) {
	t.Helper()
	mustMkdir(t, dir)
	if err := os.WriteFile(pidFile(dir), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
