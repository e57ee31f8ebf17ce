package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// poll calls f every 100ms until it returns nil or timeout passes, and returns its last error.
func poll(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// CheckControllerBinary builds the controller's main package in dir and proves, against e, the
// process contract every Weir controller keeps: it starts, answers /healthz and /readyz on
// --health-addr and exits 0 on SIGTERM; its --help lists the interval floor and jitter with their
// defaults; and it exits 2 naming the flag at fault for each bad flag.
// controllers are the names of the controllers the binary runs: each must report the
// --concurrent workers in its metrics. args are the controller-specific flags it needs to start.
func CheckControllerBinary(t *testing.T, e *Environment, dir string, controllers []string, args ...string) {
	bin := BuildBinary(t, dir)

	t.Run("starts healthy, leads and stops cleanly", func(t *testing.T) {
		ns := e.Namespace(t)
		t.Setenv("RUNTIME_NAMESPACE", ns)
		health := FreePort(t)
		metrics := FreePort(t)
		pprof := FreePort(t)
		p := StartProcess(t, bin, append([]string{
			"--kubeconfig=" + e.KubeconfigPath,
			fmt.Sprintf("--health-addr=127.0.0.1:%d", health),
			fmt.Sprintf("--metrics-addr=127.0.0.1:%d", metrics),
			fmt.Sprintf("--pprof-addr=127.0.0.1:%d", pprof),
			"--log-encoding=console",
			"--enable-leader-election",
			"--concurrent=3",
		}, args...)...)
		for _, path := range []string{"/healthz", "/readyz"} {
			if err := p.WaitHTTP(fmt.Sprintf("http://127.0.0.1:%d%s", health, path), 60*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.WaitHTTP(fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics), 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitHTTP(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap", pprof), 10*time.Second); err != nil {
			t.Fatal(err)
		}

		// The lease proves the process reached the API server with its own identity and flags.
		lease := &coordinationv1.Lease{}
		key := client.ObjectKey{Namespace: ns, Name: filepath.Base(bin) + "-leader-election"}
		if err := poll(30*time.Second, func() error { return e.Client.Get(context.Background(), key, lease) }); err != nil {
			t.Fatalf("no leader-election lease %s: %v; output:\n%s", key, err, p.Output())
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			t.Fatalf("lease %s has no holder", key)
		}
		// --concurrent reaches every controller, which starts once the lease is held.
		if err := poll(30*time.Second, func() error { return checkConcurrency(metrics, controllers, 3) }); err != nil {
			t.Error(err)
		}
		if err := p.Stop(30 * time.Second); err != nil {
			t.Fatalf("exit after SIGTERM: %v; output:\n%s", err, p.Output())
		}
		// ReleaseOnCancel: a clean stop hands the lease back at once.
		if err := e.Client.Get(context.Background(), key, lease); err != nil {
			t.Fatal(err)
		}
		if lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "" {
			t.Errorf("lease %s still held by %q after a clean stop", key, *lease.Spec.HolderIdentity)
		}
	})

	t.Run("--help shows the interval floor and jitter", func(t *testing.T) {
		p := StartProcess(t, bin, "--help")
		_ = p.Wait(30 * time.Second)
		if code := p.ExitCode(); code != 0 {
			t.Fatalf("exit code %d, want 0; output:\n%s", code, p.Output())
		}
		for flag, def := range map[string]string{"--min-interval duration": "(default 30s)", "--interval-jitter-percentage uint8": "(default 5)"} {
			found := false
			for _, line := range strings.Split(p.Output(), "\n") {
				if strings.Contains(line, flag) {
					found = true
					if !strings.Contains(line, def) {
						t.Errorf("--help: %q lacks %s", line, def)
					}
				}
			}
			if !found {
				t.Errorf("--help does not list %s; output:\n%s", flag, p.Output())
			}
		}
	})

	bad := []struct{ flag, want string }{
		{"--log-level=loud", "--log-level"},
		{"--log-encoding=xml", "--log-encoding"},
		{"--concurrent=0", "--concurrent"},
		{"--health-addr=nowhere", "--health-addr"},
		{"--events-addr=ftp://x", "--events-addr"},
		{"--watch-label-selector=a in (", "--watch-label-selector"},
		{"--leader-election-renew-deadline=90s", "--leader-election-renew-deadline: must be shorter"},
		{"--min-interval=-1s", "--min-interval: must not be negative"},
		{"--interval-jitter-percentage=100", "--interval-jitter-percentage: must be less than 100"},
		{"--no-such-flag", "no-such-flag"},
	}
	for _, tc := range bad {
		t.Run("rejects "+tc.flag, func(t *testing.T) {
			p := StartProcess(t, bin, append([]string{"--kubeconfig=" + e.KubeconfigPath}, append(args, tc.flag)...)...)
			_ = p.Wait(30 * time.Second)
			if code := p.ExitCode(); code != 2 {
				t.Fatalf("exit code %d, want 2; output:\n%s", code, p.Output())
			}
			if out := p.Output(); !strings.Contains(out, tc.want) {
				t.Fatalf("output does not name %s:\n%s", tc.want, out)
			}
		})
	}
}

// checkConcurrency reads /metrics and checks that each named controller runs want workers.
func checkConcurrency(port int, controllers []string, want int) error {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	for _, c := range controllers {
		line := fmt.Sprintf("controller_runtime_max_concurrent_reconciles{controller=%q} %d", c, want)
		if !strings.Contains(string(b), line+"\n") {
			return fmt.Errorf("/metrics lacks %q: --concurrent does not reach controller %s", line, c)
		}
	}
	return nil
}

// CheckFlagDefault builds the binary in dir and checks, in its --help, that flag's default is
// want.
func CheckFlagDefault(t *testing.T, dir, flag, want string) {
	t.Helper()
	p := StartProcess(t, BuildBinary(t, dir), "--help")
	_ = p.Wait(30 * time.Second)
	for _, line := range strings.Split(p.Output(), "\n") {
		if strings.Contains(line, "--"+flag+" ") {
			if !strings.Contains(line, "(default "+want+")") {
				t.Errorf("--help: %q, want a default of %s", strings.TrimSpace(line), want)
			}
			return
		}
	}
	t.Errorf("--help does not list --%s:\n%s", flag, p.Output())
}
