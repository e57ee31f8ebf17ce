package local

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// StartReplica starts another process of the controller name, as a Deployment with more
// replicas would: the same binary and flags (so with leader election only if Options.ControllerArgs
// turned it on), its own health and metrics listeners and kubeconfig, and a log of its own. It is
// called name-2, name-3, … in Controllers; KillController, StartController and Stop treat it as
// any controller. Only for controllers that serve nothing else: kustomize- and helm-controller.
func (e *Env) StartReplica(ctx context.Context, name string) (*Controller, error) {
	first := e.controller(name)
	if first == nil {
		return nil, fmt.Errorf("no controller %q", name)
	}
	if first.Serves != "" {
		return nil, fmt.Errorf("%s serves %s: a replica would need other addresses", name, first.Serves)
	}
	n := 2
	for e.controller(fmt.Sprintf("%s-%d", name, n)) != nil {
		n++
	}
	c := &Controller{Name: fmt.Sprintf("%s-%d", name, n)}
	c.LogPath = filepath.Join(e.Dir, c.Name+".log")
	var err error
	if c.HealthAddr, c.MetricsAddr, err = probeAddrs(); err != nil {
		return nil, err
	}
	kubeconfig, err := e.controllerKubeconfig(c.Name)
	if err != nil {
		return nil, err
	}
	args := slices.Clone(first.cmd.Args[1:])
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "--health-addr="):
			args[i] = "--health-addr=" + c.HealthAddr
		case strings.HasPrefix(a, "--metrics-addr="):
			args[i] = "--metrics-addr=" + c.MetricsAddr
		case strings.HasPrefix(a, "--kubeconfig="):
			args[i] = "--kubeconfig=" + kubeconfig
		}
	}
	if err := c.start(first.cmd.Path, args, e.exited); err != nil {
		return nil, err
	}
	e.Controllers = append(e.Controllers, c)
	return c, c.waitReady(ctx, time.Minute)
}
