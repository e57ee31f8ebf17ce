package local

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Controller is one controller process started by Up: one of Weir's four, or
// kube-controller-manager.
type Controller struct {
	// Name is the controller's name, e.g. "source-controller".
	Name string
	// HealthAddr and MetricsAddr are its /healthz,/readyz and /metrics listeners on 127.0.0.1.
	HealthAddr, MetricsAddr string
	// Serves names the controller's own HTTP server, if any (artifacts, events and receiver).
	Serves string
	// LogPath is the file its standard output and error go to.
	LogPath string
	// readyURL answers 200 once the process is ready; http://HealthAddr/readyz when empty.
	readyURL string
	// httpClient polls readyURL; http.DefaultClient when nil.
	httpClient *http.Client
	// afterStop, if set, runs once the process has ended after stop (e.g. removes a container).
	afterStop func()

	cmd      *exec.Cmd
	log      *os.File
	done     chan struct{}
	err      error
	stopping atomic.Bool
}

// PID is the controller's process ID.
func (c *Controller) PID() int { return c.cmd.Process.Pid }

// Running reports whether the process runs: it has not exited since it was last started.
func (c *Controller) Running() bool {
	if c.done == nil {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// start runs bin with args, its output appended to c.LogPath, in its own process group so a
// Ctrl-C in the terminal reaches only weir, which stops the processes in order. onExit is
// called when the process ends before stop was called.
func (c *Controller) start(bin string, args []string, onExit func(*Controller, error)) error {
	f, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	c.log = f
	c.cmd = exec.Command(bin, args...)
	c.cmd.Stdout, c.cmd.Stderr = f, f
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.done = make(chan struct{})
	if err := c.cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("starting %s: %w", c.Name, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		c.log.Close()
		close(c.done)
		if !c.stopping.Load() && onExit != nil {
			onExit(c, c.err)
		}
	}()
	return nil
}

// waitReady polls /readyz until it answers 200; it fails when the process exits first.
func (c *Controller) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url, hc := c.readyURL, c.httpClient
	if url == "" {
		url = "http://" + c.HealthAddr + "/readyz"
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited (%v) before it was ready; the end of its log:\n%s", c.Name, c.err, logTail(c.LogPath, 20))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s: %w; the end of its log:\n%s", c.Name, timeout, ctx.Err(), logTail(c.LogPath, 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits up to grace for the process to exit, then kills it.
func (c *Controller) stop(grace time.Duration) error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	c.stopping.Store(true)
	if c.afterStop != nil {
		defer c.afterStop()
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM and was killed", c.Name, grace)
	}
}

// logTail returns the last n lines of the file at path, indented: Stop removes the file.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "    (" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return "    " + strings.Join(lines[max(0, len(lines)-n):], "\n    ")
}
