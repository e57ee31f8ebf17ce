package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// FreezeAPIServer stops the kube-apiserver process with SIGSTOP, as a stall would: it keeps its
// port and connections but answers nothing, while etcd runs on. thaw resumes it with SIGCONT;
// call it exactly once (defer it, so a failing test never leaves the server stopped). Linux
// only: it finds envtest's child process in /proc.
func (e *Environment) FreezeAPIServer() (thaw func() error, err error) {
	pid, err := childRunning(e.env.ControlPlane.APIServer.Path)
	if err != nil {
		return nil, err
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return nil, fmt.Errorf("stopping kube-apiserver (pid %d): %w", pid, err)
	}
	return func() error { return syscall.Kill(pid, syscall.SIGCONT) }, nil
}

// childRunning returns the pid of this process's child that runs the executable bin.
func childRunning(bin string) (int, error) {
	if resolved, err := filepath.EvalSymlinks(bin); err == nil {
		bin = resolved
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	me := strconv.Itoa(os.Getpid())
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe != bin {
			continue
		}
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, line := range strings.Split(string(status), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k == "PPid" && strings.TrimSpace(v) == me {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no child process runs %s", bin)
}
