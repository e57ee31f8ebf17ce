package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/pkg/testenv"
)

// probe GETs url and returns its status code and body; 0 when it did not answer.
func probe(url string) (int, string) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// answers returns a check that url answers code.
func answers(url string, code int) func() error {
	return func() error {
		if got, body := probe(url); got != code {
			return fmt.Errorf("%s answered %d, want %d: %s", url, got, code, body)
		}
		return nil
	}
}

// startChild starts the test controller (leaderelection_test.go's controllerMain) through
// kubeconfig with args, and returns it with its health address.
func startChild(t *testing.T, kubeconfig string, args ...string) (*testenv.Process, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(childEnv, "1")
	health := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	p := testenv.StartProcess(t, self, append([]string{
		"--kubeconfig=" + kubeconfig,
		"--health-addr=" + health,
		"--metrics-addr=0",
		"--log-encoding=console",
		"--watch-label-selector=" + watchLabel + "=yes",
	}, args...)...)
	return p, "http://" + health
}

// TestReadyzWaitsForCaches: while every request to the API server fails, the process is live
// (/healthz 200) but not ready (/readyz fails on leader-and-caches); once the API server
// answers, the caches sync and /readyz answers 200.
func TestReadyzWaitsForCaches(t *testing.T) {
	env := startEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	proxy, err := testenv.StartFaultProxy(ctx, env.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	kc, err := proxy.Kubeconfig("controller")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	// Every list and watch of ConfigMaps fails: the manager starts (discovery answers) but its
	// cache cannot sync. Long enough for any machine; lifted below.
	proxy.Inject(testenv.Fault{Mode: testenv.InternalError, For: 10 * time.Minute,
		Spare: func(r *http.Request) bool { return !strings.HasSuffix(r.URL.Path, "/configmaps") }})

	p, base := startChild(t, kubeconfig)
	waitFor(t, p, 60*time.Second, answers(base+"/healthz", http.StatusOK))
	// The process is up and serving probes; nothing it asks the API server succeeds.
	waitFor(t, p, 30*time.Second, func() error {
		if proxy.Injected()[testenv.InternalError] == 0 {
			return fmt.Errorf("no request reached the API server yet")
		}
		return nil
	})
	for range 3 {
		code, body := probe(base + "/readyz")
		if code != http.StatusInternalServerError || !strings.Contains(body, "[-]leader-and-caches failed") {
			t.Fatalf("/readyz with an unreachable API server answered %d, want 500 naming leader-and-caches: %s\noutput:\n%s", code, body, p.Output())
		}
		time.Sleep(200 * time.Millisecond)
	}

	proxy.Inject(testenv.Fault{Mode: testenv.InternalError, For: time.Millisecond, Spare: func(*http.Request) bool { return true }})
	waitFor(t, p, 90*time.Second, answers(base+"/readyz", http.StatusOK))
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v; output:\n%s", err, p.Output())
	}
}

// TestReadyzStandby: with leader election, the leader is ready once its caches synced, and a
// second replica is ready as a standby once it has read the Lease the leader holds, so that a
// rolling update does not wait for ever on a replica that cannot lead yet.
func TestReadyzStandby(t *testing.T) {
	env := startEnv(t)
	ns := env.Namespace(t)
	t.Setenv("RUNTIME_NAMESPACE", ns)
	le := []string{"--enable-leader-election", "--leader-election-lease-duration=10s", "--leader-election-renew-deadline=8s", "--leader-election-retry-period=1s"}
	leader, leaderURL := startChild(t, env.KubeconfigPath, le...)
	waitFor(t, leader, 60*time.Second, answers(leaderURL+"/readyz", http.StatusOK))
	holder := func() string {
		// The namespace is the test's own: its one Lease is the controller's.
		var leases coordinationv1.LeaseList
		if err := env.Client.List(context.Background(), &leases, client.InNamespace(ns)); err != nil || len(leases.Items) != 1 || leases.Items[0].Spec.HolderIdentity == nil {
			return ""
		}
		return *leases.Items[0].Spec.HolderIdentity
	}
	first := holder()
	if first == "" {
		t.Fatalf("the ready leader holds no Lease; output:\n%s", leader.Output())
	}
	standby, standbyURL := startChild(t, env.KubeconfigPath, le...)
	waitFor(t, standby, 60*time.Second, answers(standbyURL+"/readyz", http.StatusOK))
	// The leader kept renewing: the second process became ready as a standby, not by leading.
	if h := holder(); h != first {
		t.Fatalf("the Lease moved from %s to %s; leader:\n%s\nstandby:\n%s", first, h, leader.Output(), standby.Output())
	}
	for _, p := range []*testenv.Process{standby, leader} {
		if err := p.Stop(30 * time.Second); err != nil {
			t.Fatalf("exit after SIGTERM: %v; output:\n%s", err, p.Output())
		}
	}
}

// TestHealthzStuckReconcile: /healthz fails while a reconcile has run longer than
// --healthz-max-reconcile-duration, and recovers once it returns.
func TestHealthzStuckReconcile(t *testing.T) {
	env := startEnv(t)
	ns := env.Namespace(t)
	p, base := startChild(t, env.KubeconfigPath, "--healthz-max-reconcile-duration=2s")
	waitFor(t, p, 60*time.Second, answers(base+"/readyz", http.StatusOK))
	waitFor(t, p, 10*time.Second, answers(base+"/healthz", http.StatusOK))

	ctx := context.Background()
	cm := configMap(ns, "stuck", "1")
	cm.Data["hang"] = "yes"
	if err := env.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, 60*time.Second, func() error {
		code, body := probe(base + "/healthz")
		if code != http.StatusInternalServerError || !strings.Contains(body, "[-]reconcilers failed") {
			return fmt.Errorf("/healthz answered %d: %s", code, body)
		}
		return nil
	})
	cm.Data["hang"] = "no"
	if err := env.Client.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, 60*time.Second, seen(env, cm, "1"))
	waitFor(t, p, 30*time.Second, answers(base+"/healthz", http.StatusOK))
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v; output:\n%s", err, p.Output())
	}
}

// startEnv starts a control plane for one test.
func startEnv(t *testing.T) *testenv.Environment {
	t.Helper()
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	return env
}
