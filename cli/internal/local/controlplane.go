package local

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	weirscheme "weir.dev/pkg/scheme"
)

// startControlPlane starts etcd and kube-apiserver from assets, installs the CRDs of
// deploy/crds, waits until they are served and writes the kubeconfig into Dir.
func (e *Env) startControlPlane(ctx context.Context, assets string) error {
	start := time.Now()
	crds := filepath.Join(e.opts.RepoRoot, "deploy", "crds")
	scheme := weirscheme.New()
	e.env = &envtest.Environment{
		CRDDirectoryPaths:     []string{crds},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		Scheme:                scheme,
		// envtest gives each process 20s to answer, which a loaded 2-core machine can exceed
		// (kube-apiserver installs its built-in resources first); a slow start is not a failure.
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	cfg, err := e.env.Start()
	if err != nil {
		e.env = nil
		return fmt.Errorf("starting etcd and kube-apiserver: %w", err)
	}
	e.APIServer = cfg.Host
	e.admin = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 100, 200
	if e.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if err := waitServed(ctx, cfg, e.env.CRDs, time.Minute); err != nil {
		return err
	}
	e.KubeconfigPath = filepath.Join(e.Dir, "kubeconfig")
	if err := os.WriteFile(e.KubeconfigPath, e.env.KubeConfig, 0o600); err != nil {
		return err
	}
	e.printf("  ✓ etcd and kube-apiserver ready, %d CRDs installed (%s)\n", len(e.env.CRDs), since(start))
	return nil
}

// waitServed waits until every CRD's resource answers a list: a CRD is Established before its
// storage is ready, and until then the API server answers 429.
func waitServed(ctx context.Context, cfg *rest.Config, crds []*apiextensionsv1.CustomResourceDefinition, timeout time.Duration) error {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host := strings.TrimSuffix(cfg.Host, "/")
	for _, crd := range crds {
		url := fmt.Sprintf("%s/apis/%s/%s/%s?limit=1", host, crd.Spec.Group, crd.Spec.Versions[0].Name, crd.Spec.Names.Plural)
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("CRD %s not served: %w", crd.Name, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// pidFile is where Up records the process that hosts the Env in dir, for `weir local down`.
func pidFile(dir string) string { return filepath.Join(dir, "weir.pid") }

// claimDir creates dir and records this process in its pid file. It refuses a dir another
// live process runs in, and a non-empty one without a pid file (left by --keep); a dir whose
// process is gone (killed) is cleared.
func claimDir(dir string) error {
	if pid, err := readPID(dir); err == nil {
		if alive(pid) {
			return fmt.Errorf("weir local already runs in %s (pid %d): stop it with `weir local down --dir %s`", dir, pid, dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("clearing %s, left by a weir local that is gone: %w", dir, err)
		}
	} else if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		return fmt.Errorf("%s is not empty (kept by --keep?): remove it or choose another --dir", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(pidFile(dir), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

func readPID(dir string) (int, error) {
	b, err := os.ReadFile(pidFile(dir))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// Down stops the weir local running in dir: it sends SIGTERM to the process in dir's pid file
// and waits up to timeout for it to exit.
func Down(dir string, timeout time.Duration) (int, error) {
	pid, err := readPID(dir)
	if err != nil {
		return 0, fmt.Errorf("no weir local runs in %s: %w", dir, err)
	}
	if !alive(pid) {
		return pid, fmt.Errorf("the weir local of %s (pid %d) is gone; remove the directory", dir, pid)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return pid, err
	}
	deadline := time.Now().Add(timeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			return pid, fmt.Errorf("pid %d still runs %s after SIGTERM", pid, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return pid, nil
}
