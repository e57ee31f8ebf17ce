package local

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
)

// syncWriter collects Up's progress lines from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestUpRunsTheDemoAndStopLeavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "local")
	out := &syncWriter{}
	// Generous: on a cold machine Up builds the four controllers first.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	env, err := Up(ctx, Options{Dir: dir, Demo: true, Out: out})
	if err != nil {
		t.Fatalf("Up: %v\noutput:\n%s", err, out)
	}
	t.Logf("up in %s", time.Since(start).Round(time.Millisecond))
	stopped := false
	defer func() {
		if !stopped {
			_ = env.Stop()
		}
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	}()

	// The four controllers run and answer /readyz.
	if len(env.Controllers) != 4 {
		t.Fatalf("%d controllers, want 4", len(env.Controllers))
	}
	for _, c := range env.Controllers {
		resp, err := http.Get("http://" + c.HealthAddr + "/readyz")
		if err != nil {
			t.Fatalf("%s /readyz: %v", c.Name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s /readyz: %s", c.Name, resp.Status)
		}
	}

	// The demo's Kustomizations applied the head of the sample repository, and its objects exist.
	d := env.Demo
	if d == nil || !strings.HasPrefix(d.Revision, "main@sha1:") {
		t.Fatalf("demo %+v", d)
	}
	for _, name := range d.Kustomizations {
		ks := &kustomizev1.Kustomization{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: DemoNamespace, Name: name}, ks); err != nil {
			t.Fatal(err)
		}
		if err := readyErr(ks); err != nil || ks.Status.LastAppliedRevision != d.Revision {
			t.Errorf("Kustomization %s: ready: %v, applied %q, want %q", name, err, ks.Status.LastAppliedRevision, d.Revision)
		}
	}
	for name, want := range map[string]string{
		"podinfo-config":         "Hello from Weir",
		"staging-podinfo-config": "Hello from Weir's staging overlay",
		"hello-config":           "Hello from the HelmRelease's values",
	} {
		cm := &corev1.ConfigMap{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: DemoNamespace, Name: name}, cm); err != nil {
			t.Errorf("ConfigMap %s: %v", name, err)
		} else if got := cm.Data["message"]; got != want {
			t.Errorf("ConfigMap %s: message %q, want %q", name, got, want)
		}
	}
	if env.HasNode {
		// kwok's node runs the Pods: the Kustomizations waited for the Deployments.
		for _, name := range []string{"podinfo", "staging-podinfo"} {
			dep := &appsv1.Deployment{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: DemoNamespace, Name: name}, dep); err != nil {
				t.Fatal(err)
			}
			if dep.Status.AvailableReplicas != 1 {
				t.Errorf("Deployment %s: %d available replicas, want 1", name, dep.Status.AvailableReplicas)
			}
		}
	} else {
		t.Log("no kube-controller-manager, kube-scheduler and kwok in bin/ (`make run` builds them): Deployments not checked")
	}
	hr := &helmv1.HelmRelease{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: DemoNamespace, Name: d.HelmRelease}, hr); err != nil {
		t.Fatal(err)
	}
	if err := readyErr(hr); err != nil {
		t.Errorf("HelmRelease %s: %v", d.HelmRelease, err)
	}

	// The Alert's notifications reach the printing webhook, with the applied revision.
	deadline := time.Now().Add(30 * time.Second)
	for !hasNotification(d.Notifications(), "Kustomization", d.Revision) {
		if time.Now().After(deadline) {
			t.Fatalf("no Kustomization notification with revision %s; got %v", d.Revision, d.Notifications())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "notification: ") {
		t.Errorf("the notification was not printed")
	}

	// The summary names the kubeconfig, the Git URL and the Receiver's URL.
	var summary strings.Builder
	env.PrintSummary(ctx, &summary)
	for _, want := range []string{"export KUBECONFIG=" + env.KubeconfigPath, "weir ui --open", d.GitURL, d.ReceiverURL, "Kustomization/app-staging", "HelmRelease/hello"} {
		if !strings.Contains(summary.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary.String())
		}
	}

	if err := env.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	stopped = true
	if kids := children(t); len(kids) > 0 {
		t.Errorf("child processes left after Stop: %v", kids)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop (err %v)", dir, err)
	}
}

func hasNotification(ns []Notification, kind, revision string) bool {
	for _, n := range ns {
		if n.Kind == kind && n.Revision == revision {
			return true
		}
	}
	return false
}

// children returns the command lines of this process's living children.
func children(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	var found []string
	me := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, state := procStatus(pid, "PPid"), procStatus(pid, "State"); ppid == me && !strings.HasPrefix(state, "Z") {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			found = append(found, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
		}
	}
	return found
}

// procStatus returns the value of field in /proc/<pid>/status.
func procStatus(pid int, field string) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
