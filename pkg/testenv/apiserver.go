package testenv

import (
	"fmt"
	"syscall"

	"weir.dev/pkg/proc"
)

// FreezeAPIServer stops the kube-apiserver process with SIGSTOP, as a stall would: it keeps its
// port and connections but answers nothing, while etcd runs on. thaw resumes it with SIGCONT;
// call it exactly once (defer it, so a failing test never leaves the server stopped). Linux
// only: it finds envtest's child process in /proc.
func (e *Environment) FreezeAPIServer() (thaw func() error, err error) {
	pid, err := proc.ChildRunning(e.env.ControlPlane.APIServer.Path)
	if err != nil {
		return nil, err
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return nil, fmt.Errorf("stopping kube-apiserver (pid %d): %w", pid, err)
	}
	return func() error { return syscall.Kill(pid, syscall.SIGCONT) }, nil
}
