package proc

import (
	"os/exec"
	"testing"
)

func TestChildRunning(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep on PATH")
	}
	cmd := exec.Command(sleep, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid, err := ChildRunning(sleep)
	if err != nil || pid != cmd.Process.Pid {
		t.Fatalf("ChildRunning(%s) = %d, %v; want %d", sleep, pid, err, cmd.Process.Pid)
	}
	if _, err := ChildRunning("/nonexistent/binary"); err == nil {
		t.Error("found a child running a binary that does not exist")
	}
}
