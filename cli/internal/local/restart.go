package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"weir.dev/pkg/proc"
)

// KillController ends the controller name with SIGKILL, as a crash or an OOM kill would, and
// waits until the process is gone. The Env does not restart it: StartController does.
func (e *Env) KillController(name string) error {
	c := e.controller(name)
	if c == nil {
		return fmt.Errorf("no controller %q", name)
	}
	select {
	case <-c.done:
		return fmt.Errorf("%s is not running", name)
	default:
	}
	c.stopping.Store(true)
	if err := c.cmd.Process.Kill(); err != nil {
		return err
	}
	<-c.done
	return nil
}

// StopController stops the controller name with SIGTERM, as a rollout would, and waits until
// the process is gone (killing it after 30 s). StartController starts it again.
func (e *Env) StopController(name string) error {
	c := e.controller(name)
	if c == nil {
		return fmt.Errorf("no controller %q", name)
	}
	return c.stop(30 * time.Second)
}

// StartController starts the controller name again, after KillController, with the binary and
// flags it ran with, and waits until it answers /readyz.
func (e *Env) StartController(ctx context.Context, name string) error {
	c := e.controller(name)
	if c == nil {
		return fmt.Errorf("no controller %q", name)
	}
	select {
	case <-c.done:
	default:
		return fmt.Errorf("%s is still running", name)
	}
	bin, args := c.cmd.Path, c.cmd.Args[1:]
	c.stopping.Store(false)
	if err := c.start(bin, args, e.exited); err != nil {
		return err
	}
	return c.waitReady(ctx, time.Minute)
}

// controller returns the Weir controller called name, or nil.
func (e *Env) controller(name string) *Controller {
	for _, c := range e.Controllers {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// RestartAPIServer kills kube-apiserver with SIGKILL, as a crash would (a graceful stop waits
// for the controllers' watches), while etcd and every controller keep running; it then starts
// it again with the same flags, certificates and port, so kubeconfigs stay valid, and returns
// once the new process is ready. The new process joins the cluster components, which Stop
// stops before etcd. Linux only: it finds envtest's process in /proc.
func (e *Env) RestartAPIServer(ctx context.Context) error {
	bin := filepath.Join(e.opts.RepoRoot, "bin", "kube-apiserver")
	var c *Controller
	if len(e.cluster) > 0 && e.cluster[0].Name == "kube-apiserver" {
		c = e.cluster[0]
		c.stopping.Store(true)
		_ = c.cmd.Process.Kill()
		<-c.done
	} else {
		pid, err := proc.ChildRunning(bin)
		if err != nil {
			return err
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			return err
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")[1:]
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return err
		}
		for deadline := time.Now().Add(10 * time.Second); running(pid); {
			if time.Now().After(deadline) {
				return fmt.Errorf("kube-apiserver (pid %d) still runs 10s after SIGKILL", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
		cfg, err := clientcmd.RESTConfigFromKubeConfig(e.env.KubeConfig)
		if err != nil {
			return err
		}
		hc, err := rest.HTTPClientFor(cfg)
		if err != nil {
			return err
		}
		c = &Controller{Name: "kube-apiserver", LogPath: filepath.Join(e.Dir, "kube-apiserver.log"),
			readyURL: strings.TrimSuffix(e.APIServer, "/") + "/readyz", httpClient: hc}
		// First in the list: Stop stops the cluster components in reverse order.
		e.cluster = append([]*Controller{c}, e.cluster...)
		c.cmd = &exec.Cmd{Path: bin, Args: append([]string{bin}, args...)}
	}
	bin, args := c.cmd.Path, c.cmd.Args[1:]
	// envtest chose the port from the kernel's ephemeral range: until the old listener's port
	// is free of a client's outgoing connection (or a self-connect), binding it fails.
	for attempt := 1; ; attempt++ {
		c.stopping.Store(false)
		if err := c.start(bin, args, nil); err != nil {
			return err
		}
		err := c.waitReady(ctx, time.Minute)
		select {
		case <-c.done:
			if attempt < 40 && ctx.Err() == nil {
				time.Sleep(250 * time.Millisecond)
				continue
			}
		default:
		}
		if err == nil {
			go func(done chan struct{}) {
				<-done
				if !c.stopping.Load() {
					e.exited(c, c.err)
				}
			}(c.done)
		}
		return err
	}
}

// running reports whether process pid exists and is not a zombie.
func running(pid int) bool {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	return err == nil && !strings.Contains(string(status), "\nState:\tZ")
}
