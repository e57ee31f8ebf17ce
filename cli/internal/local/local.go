package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"weir.dev/pkg/freeport"
)

// Options configure Up.
type Options struct {
	// Dir holds the kubeconfig, the controllers' logs, the artifacts, the demo's Git
	// repositories and the pid file. Up creates it; Stop removes it unless Keep.
	// Empty means DefaultDir().
	Dir string
	// Keep leaves Dir in place after Stop.
	Keep bool
	// Demo starts the demo: a Git server, its sample repository and the objects applying it.
	Demo bool
	// RepoRoot is the Weir checkout the controllers, CRDs and control plane come from; empty
	// means the nearest directory holding go.work at or above the working directory.
	RepoRoot string
	// Out receives progress lines and the demo's notifications; nil discards them.
	Out io.Writer
	// Lockdown runs the controllers as a multi-tenant install does (deploy/components/lockdown):
	// --no-cross-namespace-refs, and --default-service-account=default, so that an object without
	// spec.serviceAccountName acts as its namespace's default ServiceAccount and may do only what
	// that is granted. The demo's namespace is then onboarded as a tenant with rights in it alone.
	// (With Containers, the manifests' components decide instead.)
	Lockdown bool
	// ControllerKubeconfig, when set, returns the kubeconfig the controller process called name
	// reaches the API server with (a replica's name ends in -2, -3, …), e.g. one of a proxy in
	// front of admin, the API server's administrator config. Env.Client, kube-controller-manager,
	// kube-scheduler and kwok keep reaching the API server directly. Ignored with Containers.
	ControllerKubeconfig func(name string, admin *rest.Config) ([]byte, error)
	// ControllerArgs are extra flags by controller name, e.g. leader election's. Ignored with
	// Containers.
	ControllerArgs map[string][]string
	// Containers, when set, runs the controllers as containers of an install's images with
	// its manifests and RBAC, instead of as processes built from RepoRoot.
	Containers *Containers
	// BuildCluster builds the kube-controller-manager, kube-scheduler and kwok that bin/ lacks
	// after Up has returned, and starts them once built: a first run shows Weir syncing
	// without waiting for them, and Deployments become Available when they arrive.
	BuildCluster bool
}

// DefaultDir is the directory `weir local up` and `weir local down` use without --dir.
func DefaultDir() string { return filepath.Join(os.TempDir(), "weir-local") }

// Env is a running local Weir.
type Env struct {
	// Dir is Options.Dir, resolved.
	Dir string
	// KubeconfigPath is an administrator's kubeconfig for the API server.
	KubeconfigPath string
	// APIServer is the API server's URL.
	APIServer string
	// Controllers are the four controller processes, in start order.
	Controllers []*Controller
	// HasNode is true when kwok simulates a node: Pods run and Deployments become Available.
	HasNode bool
	// Demo is the running demo; nil without Options.Demo.
	Demo *Demo
	// Client reaches the API server as an administrator.
	Client client.Client

	opts         Options
	receiverAddr string
	// cluster are kube-controller-manager, kube-scheduler and kwok, those bin/ has; clusterMu
	// guards it and HasNode while they are started in the background (Options.BuildCluster).
	cluster   []*Controller
	clusterMu sync.Mutex
	// background stops and awaits the background build of the cluster components.
	background func()
	out        io.Writer
	outMu      sync.Mutex
	env        *envtest.Environment
	admin      *rest.Config // the administrator's, for Options.ControllerKubeconfig
	stopOnce   sync.Once
	stopErr    error
}

// Up starts a local Weir and returns once every controller is ready and, with the demo, the
// demo's Kustomizations have applied the sample repository. On failure it stops whatever it
// started. Cancelling ctx aborts the start; it does not stop a running Env.
func Up(ctx context.Context, opts Options) (*Env, error) {
	if opts.Dir == "" {
		opts.Dir = DefaultDir()
	}
	if opts.RepoRoot == "" {
		if wd, err := os.Getwd(); err == nil {
			opts.RepoRoot = FindRepoRoot(wd)
		}
	}
	if opts.RepoRoot == "" {
		return nil, errors.New("weir local runs from a Weir checkout (it builds the controllers and reads deploy/crds): no go.work at or above the working directory")
	}
	e := &Env{Dir: opts.Dir, opts: opts, out: opts.Out}
	if e.out == nil {
		e.out = io.Discard
	}
	if err := claimDir(opts.Dir); err != nil {
		return nil, err
	}
	if err := e.up(ctx); err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	return e, nil
}

func (e *Env) up(ctx context.Context) error {
	start := time.Now()
	e.printf("Starting Weir locally in %s\n", e.Dir)

	assets, err := testbin(ctx, e.opts.RepoRoot, e.printf)
	if err != nil {
		return err
	}
	// The API server starts while the controllers build: it needs little CPU.
	var bins map[string]string
	built := make(chan error, 1)
	if e.opts.Containers != nil {
		built <- nil
	} else {
		go func() {
			t := time.Now()
			e.printf("  … building the four controllers from %s\n", e.opts.RepoRoot)
			var err error
			if bins, err = buildControllers(ctx, e.opts.RepoRoot, e.printf); err == nil {
				e.printf("  ✓ controllers built (%s)\n", since(t))
			}
			built <- err
		}()
	}
	err = e.startControlPlane(ctx, assets)
	if err == nil {
		err = e.startClusterComponents(ctx, assets)
	}
	if err = errors.Join(err, <-built); err != nil {
		return err
	}
	if e.opts.Containers != nil {
		err = e.startContainers(ctx)
	} else {
		err = e.startControllers(ctx, bins)
	}
	if err != nil {
		return err
	}
	if e.opts.Demo {
		if err := e.startDemo(ctx); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	e.printf("  ✓ Weir is up (%s)\n\n", since(start))
	if e.opts.BuildCluster && !e.HasNode && e.opts.Containers == nil {
		e.completeClusterInBackground(assets)
	}
	return nil
}

// wiring are the addresses the four controllers serve and reach each other on, all on
// 127.0.0.1: where a cluster has Services and DNS, the local mode has ports.
type wiring struct {
	storage, events, receiver string
}

func newWiring() (*wiring, error) {
	var w wiring
	for _, a := range []*string{&w.storage, &w.events, &w.receiver} {
		addr, err := freeport.Addr()
		if err != nil {
			return nil, err
		}
		*a = addr
	}
	return &w, nil
}

// serves describes controller name's own HTTP server, if any, for the progress lines.
func (w *wiring) serves(name string) string {
	switch name {
	case "source-controller":
		return "artifacts http://" + w.storage
	case "notification-controller":
		return "events http://" + w.events + ", receiver http://" + w.receiver
	}
	return ""
}

// args returns controller name's address flags, and the permission to notify 127.0.0.1;
// source-controller's storage path is the caller's (a directory here, a volume in a container).
func (w *wiring) args(name string) []string {
	eventsURL := "--events-addr=http://" + w.events + "/"
	switch name {
	case "source-controller":
		return []string{"--storage-addr=" + w.storage, "--storage-adv-addr=" + w.storage, eventsURL}
	case "kustomize-controller", "helm-controller":
		return []string{"--artifact-host=" + w.storage, eventsURL}
	case "notification-controller":
		// The local mode's webhooks (the demo's printer, a developer's test server) are on
		// 127.0.0.1, which a cluster's notification-controller refuses by default.
		return []string{"--events-listen-addr=" + w.events, "--receiver-addr=" + w.receiver, "--allow-internal-addresses"}
	}
	return nil
}

// lockdownArgs are the flags deploy/components/lockdown adds to controller name.
func lockdownArgs(name string) []string {
	switch name {
	case "kustomize-controller", "helm-controller":
		return []string{"--no-cross-namespace-refs", "--default-service-account=default"}
	case "notification-controller":
		return []string{"--no-cross-namespace-refs"}
	}
	return nil
}

// probeAddrs returns two free addresses for a controller's health and metrics listeners.
func probeAddrs() (health, metrics string, err error) {
	if health, err = freeport.Addr(); err != nil {
		return "", "", err
	}
	metrics, err = freeport.Addr()
	return health, metrics, err
}

// startControllers starts the four controllers wired to each other on 127.0.0.1 and waits
// until each answers /readyz.
func (e *Env) startControllers(ctx context.Context, bins map[string]string) error {
	w, err := newWiring()
	if err != nil {
		return err
	}
	e.receiverAddr = w.receiver
	for _, name := range controllerNames {
		health, metrics, err := probeAddrs()
		if err != nil {
			return err
		}
		c := &Controller{Name: name, HealthAddr: health, MetricsAddr: metrics, Serves: w.serves(name),
			LogPath: filepath.Join(e.Dir, name+".log")}
		kubeconfig, err := e.controllerKubeconfig(name)
		if err != nil {
			return err
		}
		args := append([]string{
			"--kubeconfig=" + kubeconfig,
			"--health-addr=" + health, "--metrics-addr=" + metrics,
			"--log-encoding=console",
		}, w.args(name)...)
		if e.opts.Lockdown {
			args = append(args, lockdownArgs(name)...)
		}
		args = append(args, e.opts.ControllerArgs[name]...)
		if name == "source-controller" {
			args = append(args, "--storage-path="+filepath.Join(e.Dir, "artifacts"))
		}
		if err := c.start(bins[name], args, e.exited); err != nil {
			return err
		}
		e.Controllers = append(e.Controllers, c)
	}
	return e.waitControllers(ctx)
}

// controllerKubeconfig returns the path of the kubeconfig the controller process called name
// runs with: Options.ControllerKubeconfig's, written into Dir, or the administrator's.
func (e *Env) controllerKubeconfig(name string) (string, error) {
	if e.opts.ControllerKubeconfig == nil {
		return e.KubeconfigPath, nil
	}
	b, err := e.opts.ControllerKubeconfig(name, rest.CopyConfig(e.admin))
	if err != nil {
		return "", fmt.Errorf("the kubeconfig of %s: %w", name, err)
	}
	path := filepath.Join(e.Dir, "kubeconfig-"+name)
	return path, os.WriteFile(path, b, 0o600)
}

// waitControllers waits until every controller answers /readyz.
func (e *Env) waitControllers(ctx context.Context) error {
	errs := make(chan error, len(e.Controllers))
	start := time.Now()
	for _, c := range e.Controllers {
		go func() {
			err := c.waitReady(ctx, 2*time.Minute)
			if err == nil {
				e.printf("  ✓ %s ready (%s)\n", c.Name, since(start))
			}
			errs <- err
		}()
	}
	var all []error
	for range e.Controllers {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// exited reports a controller that ended while it should be running.
func (e *Env) exited(c *Controller, err error) {
	e.printf("! %s exited unexpectedly (%v); see %s\n", c.Name, err, c.LogPath)
}

// Stop stops every process Up started: the controllers first, then kwok, kube-scheduler and
// kube-controller-manager, the demo's servers, the API server and etcd; it removes Dir unless Options.Keep. It is safe to call more than once.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		if e.background != nil {
			e.background()
		}
		errs := []error{e.StopControllers()}
		for i := len(e.cluster) - 1; i >= 0; i-- {
			errs = append(errs, e.cluster[i].stop(10*time.Second))
		}
		if e.Demo != nil {
			e.Demo.close()
		}
		if e.env != nil {
			errs = append(errs, e.env.Stop())
		}
		_ = os.Remove(pidFile(e.Dir))
		if !e.opts.Keep {
			errs = append(errs, os.RemoveAll(e.Dir))
		}
		e.stopErr = errors.Join(errs...)
	})
	return e.stopErr
}

// StopControllers stops Weir's four controllers and leaves the rest running, as a cluster
// whose controllers were scaled down. Stopping a stopped controller does nothing.
func (e *Env) StopControllers() error {
	var wg sync.WaitGroup
	errc := make(chan error, len(e.Controllers))
	for _, c := range e.Controllers {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- c.stop(30 * time.Second) }()
	}
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ReceiverAddr is the host:port on 127.0.0.1 where notification-controller takes Receivers'
// webhooks: a Receiver's URL is "http://" + ReceiverAddr() + its status.webhookPath.
func (e *Env) ReceiverAddr() string { return e.receiverAddr }

// printf writes a progress line to Options.Out.
func (e *Env) printf(format string, args ...any) {
	e.outMu.Lock()
	defer e.outMu.Unlock()
	fmt.Fprintf(e.out, format, args...)
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
