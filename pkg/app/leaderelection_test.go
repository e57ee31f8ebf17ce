package app_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/go-logr/logr"

	"weir.dev/pkg/app"
	"weir.dev/pkg/testenv"
)

// The test binary doubles as a tiny controller built on app.Main: started with childEnv set,
// it annotates each ConfigMap the watch selector admits with its data's "value".
const (
	childEnv   = "WEIR_APP_TEST_CONTROLLER"
	seenKey    = "test.weir.dev/seen"
	watchLabel = "test.weir.dev/leader"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		controllerMain()
		return
	}
	os.Exit(m.Run())
}

func controllerMain() {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	app.Main(app.Controller{
		Name:    "app-test-controller",
		Scheme:  s,
		Watched: []client.Object{&corev1.ConfigMap{}},
		Setup: func(mgr ctrl.Manager, _ *app.Options, _ logr.Logger) error {
			c := mgr.GetClient()
			return ctrl.NewControllerManagedBy(mgr).For(&corev1.ConfigMap{}).Named("configmap").
				Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
					cm := &corev1.ConfigMap{}
					if err := c.Get(ctx, req.NamespacedName, cm); err != nil {
						return reconcile.Result{}, client.IgnoreNotFound(err)
					}
					// A ConfigMap with hang: "yes" holds its reconcile until that changes, as a
					// reconcile stuck on a call without a deadline would (probes_test.go).
					for cm.Data["hang"] == "yes" {
						select {
						case <-ctx.Done():
							return reconcile.Result{}, ctx.Err()
						case <-time.After(100 * time.Millisecond):
						}
						if err := c.Get(ctx, req.NamespacedName, cm); err != nil {
							return reconcile.Result{}, client.IgnoreNotFound(err)
						}
					}
					if cm.Annotations[seenKey] == cm.Data["value"] {
						return reconcile.Result{}, nil
					}
					patch := client.MergeFrom(cm.DeepCopy())
					metav1.SetMetaDataAnnotation(&cm.ObjectMeta, seenKey, cm.Data["value"])
					return reconcile.Result{}, c.Patch(ctx, cm, patch)
				}))
		},
	})
}

// TestControllerRidesThroughAnAPIServerStall stops the API server for longer than the renew
// deadline: the controller loses its lease, yet the same process keeps running, leads again once
// the server is back, and reconciles changes made after the stall.
func TestControllerRidesThroughAnAPIServerStall(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs last: after the controller and the namespace are gone.
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	ns := env.Namespace(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("RUNTIME_NAMESPACE", ns)
	t.Setenv(childEnv, "1")
	p := testenv.StartProcess(t, self,
		"--kubeconfig="+env.KubeconfigPath,
		fmt.Sprintf("--health-addr=127.0.0.1:%d", testenv.FreePort(t)),
		fmt.Sprintf("--metrics-addr=127.0.0.1:%d", testenv.FreePort(t)),
		"--log-encoding=console",
		"--watch-label-selector="+watchLabel+"=yes",
		"--enable-leader-election",
		"--leader-election-lease-duration=4s",
		"--leader-election-renew-deadline=3s",
		"--leader-election-retry-period=1s",
	)
	ctx := context.Background()
	before := configMap(ns, "before", "1")
	if err := env.Client.Create(ctx, before); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, 60*time.Second, seen(env, before, "1"))

	thaw, err := env.FreezeAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	thawed := false
	defer func() {
		if !thawed {
			_ = thaw()
		}
	}()
	// The renewal must fail: wait for the controller to say so (it cannot reach the server) …
	waitFor(t, nil, 60*time.Second, func() error {
		if !strings.Contains(p.Output(), "leader election lost") {
			return fmt.Errorf("the lease was not lost %s into the stall", time.Since(frozen).Round(time.Second))
		}
		return nil
	})
	// … and keep the server stopped past the lease too, so the fresh manager starts against a
	// server that does not answer.
	time.Sleep(time.Until(frozen.Add(8 * time.Second)))
	thawed = true
	if err := thaw(); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server stopped for %s", time.Since(frozen).Round(100*time.Millisecond))

	// Changes made after the stall: one to a ConfigMap reconciled before it, one new ConfigMap.
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(before), before); err != nil {
		t.Fatal(err)
	}
	before.Data["value"] = "2"
	if err := env.Client.Update(ctx, before); err != nil {
		t.Fatal(err)
	}
	after := configMap(ns, "after", "a")
	if err := env.Client.Create(ctx, after); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, 60*time.Second, seen(env, before, "2"))
	waitFor(t, p, 30*time.Second, seen(env, after, "a"))
	if !strings.Contains(p.Output(), "running for election again") {
		t.Errorf("no log line says the controller runs for election again; output:\n%s", p.Output())
	}
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v; output:\n%s", err, p.Output())
	}
}

func configMap(ns, name, value string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{watchLabel: "yes"}},
		Data:       map[string]string{"value": value},
	}
}

// seen returns nil once the controller has annotated cm with value.
func seen(env *testenv.Environment, cm *corev1.ConfigMap, value string) func() error {
	return func() error {
		got := &corev1.ConfigMap{}
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(cm), got); err != nil {
			return err
		}
		if v := got.Annotations[seenKey]; v != value {
			return fmt.Errorf("ConfigMap %s: %s is %q, want %q", cm.Name, seenKey, v, value)
		}
		return nil
	}
}

// waitFor polls f until it returns nil; it fails the test when timeout passes first or, when p
// is not nil, as soon as p exits.
func waitFor(t *testing.T, p *testenv.Process, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if p != nil && p.ExitCode() != -1 {
			t.Fatalf("the controller exited with code %d (%v); output:\n%s", p.ExitCode(), err, p.Output())
		}
		if time.Now().After(deadline) {
			out := ""
			if p != nil {
				out = p.Output()
			}
			t.Fatalf("after %s: %v; output:\n%s", timeout, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
