package testenv

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"weir.dev/pkg/scheme"
)

// Environment is a running test control plane.
type Environment struct {
	// Config reaches the API server as an administrator (system:masters).
	Config *rest.Config
	// Client is a direct (uncached) client with Scheme.
	Client client.Client
	// Scheme knows the built-in kinds, apiextensions and every Weir kind.
	Scheme *runtime.Scheme
	// KubeconfigPath is a kubeconfig file for Config, for processes and kubectl.
	KubeconfigPath string
	// RepoRoot is the repository's root directory (the one holding go.work).
	RepoRoot string

	env *envtest.Environment
	dir string
}

// NewScheme returns a scheme with the built-in kinds, apiextensions and every Weir kind.
func NewScheme() *runtime.Scheme { return scheme.New() }

// Start starts etcd and kube-apiserver from bin/ (or $KUBEBUILDER_ASSETS) and installs the CRDs
// in deploy/crds. Stop it with Stop.
func Start() (*Environment, error) {
	root, err := FindRepoRoot()
	if err != nil {
		return nil, err
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin")
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, name)); err != nil {
			return nil, fmt.Errorf("test control plane: %s not found in %s: run `make testbin` first", name, assets)
		}
	}

	scheme := NewScheme()
	e := &Environment{Scheme: scheme, RepoRoot: root}
	e.env = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "deploy", "crds")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		Scheme:                scheme,
		// envtest gives each process 20s to answer, which a loaded 2-core machine can exceed
		// (kube-apiserver installs its built-in resources first); a slow start is not a failure.
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	cfg, err := e.env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the test control plane: %w", err)
	}
	// client-go's default of 5 requests/s would make every controller under test crawl.
	cfg.QPS, cfg.Burst = 1000, 2000
	e.Config = cfg
	if e.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		_ = e.env.Stop()
		return nil, fmt.Errorf("creating a client: %w", err)
	}
	if err := e.waitServed(60 * time.Second); err != nil {
		_ = e.env.Stop()
		return nil, err
	}
	if e.dir, err = os.MkdirTemp("", "weir-testenv-"); err != nil {
		_ = e.env.Stop()
		return nil, err
	}
	e.KubeconfigPath = filepath.Join(e.dir, "kubeconfig")
	if err := os.WriteFile(e.KubeconfigPath, e.env.KubeConfig, 0o600); err != nil {
		_ = e.Stop()
		return nil, err
	}
	return e, nil
}

// waitServed waits until every installed CRD's resource answers a list. A CRD is Established
// before its storage is ready; until then the API server answers 429 "storage is (re)initializing".
func (e *Environment) waitServed(timeout time.Duration) error {
	hc, err := rest.HTTPClientFor(e.Config)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	host := strings.TrimSuffix(e.Config.Host, "/")
	for _, crd := range e.env.CRDs {
		url := fmt.Sprintf("%s/apis/%s/%s/%s?limit=1", host, crd.Spec.Group, crd.Spec.Versions[0].Name, crd.Spec.Names.Plural)
		for {
			resp, err := hc.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not served within %s: %w", crd.Name, timeout, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// Stop stops the control plane and removes its files.
func (e *Environment) Stop() error {
	err := e.env.Stop()
	if e.dir != "" {
		err = errors.Join(err, os.RemoveAll(e.dir))
	}
	return err
}

// Setup prepares a package's shared fixtures (e.g. starts its controllers) once the control
// plane runs; the returned stop function runs after the tests, before the control plane stops.
type Setup func(e *Environment) (stop func(), err error)

// Main starts an Environment into *env, runs each setup, the package's tests, the setups' stop
// functions in reverse order, and stops the control plane. It exits the process with the tests'
// code, or 1 with a clear message when the control plane or a setup cannot start.
func Main(m *testing.M, env **Environment, setups ...Setup) {
	if fuzzing() {
		// A fuzz target parses bytes and needs no cluster; the fuzzer's workers are child
		// processes, and a control plane started in one would outlive it and hold the
		// coordinator's pipe open, so that a crash is never reported.
		os.Exit(m.Run())
	}
	e, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*env = e
	var stops []func()
	code := 1
	for _, setup := range setups {
		stop, err := setup(e)
		if err != nil {
			fmt.Fprintln(os.Stderr, "test setup:", err)
			break
		}
		stops = append(stops, stop)
	}
	if len(stops) == len(setups) {
		code = m.Run()
	}
	for i := len(stops) - 1; i >= 0; i-- {
		// A manager whose caches never synced does not return when cancelled: bound the wait
		// so the control plane is still stopped and the process exits.
		done := make(chan struct{})
		go func() { stops[i](); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			fmt.Fprintln(os.Stderr, "test teardown did not finish within 1m; stopping the control plane anyway")
			code = max(code, 1)
		}
	}
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the test control plane:", err)
	}
	os.Exit(code)
}

// Namespace creates a namespace with a unique name for the test and deletes it when the test ends.
func (e *Environment) Namespace(t testing.TB) string {
	t.Helper()
	return e.NamespaceNamed(t, "t-"+shorten(t.Name(), 40))
}

// NamespaceNamed is Namespace with a name of prefix and a random suffix, for tests whose
// namespaces people read (screenshots).
func (e *Environment) NamespaceNamed(t testing.TB, prefix string) string {
	t.Helper()
	name := strings.ToLower(fmt.Sprintf("%s-%s", prefix, rand.String(5)))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.Client.Delete(ctx, ns)
	})
	return name
}

// shorten turns a test name into at most n characters valid in a DNS label.
func shorten(s string, n int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > n {
		out = strings.TrimRight(out[:n], "-")
	}
	return out
}

// FindRepoRoot returns the nearest directory at or above the working directory that holds go.work.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.work not found above the working directory: run tests from inside the Weir repository")
		}
		dir = parent
	}
}

// fuzzing reports whether the test binary runs fuzz targets (go test -fuzz), as the
// coordinator or as one of its workers.
func fuzzing() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}
