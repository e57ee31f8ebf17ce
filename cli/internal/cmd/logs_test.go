package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/pkg/testenv"
)

// Lines as the controllers log them in local mode (--log-encoding=console), copied from a
// `weir local` run: controller-runtime's reconciler keys, an error with its stack trace on the
// lines below, notification-controller's "object", and lines about no object.
const (
	consoleStart     = "%s\tINFO\tkustomize-controller\tstarting\t{\"version\": \"devel\", \"leaderElection\": false}"
	consoleWorkers   = "%s\tINFO\tStarting workers\t{\"controller\": \"kustomization\", \"controllerGroup\": \"kustomize.weir.dev\", \"controllerKind\": \"Kustomization\", \"worker count\": 10}"
	consoleReconcile = "%s\tINFO\treconciled\t{\"controller\": \"kustomization\", \"controllerGroup\": \"kustomize.weir.dev\", \"controllerKind\": \"Kustomization\", \"Kustomization\": {\"name\":\"%s\",\"namespace\":\"weir-system\"}, \"namespace\": \"weir-system\", \"name\": \"%s\", \"reconcileID\": \"ff1fd9db-cd40-4311-af07-e80f90146ce2\"}"
	consoleError     = "%s\tERROR\tReconciler error\t{\"controller\": \"gitrepository\", \"controllerGroup\": \"source.weir.dev\", \"controllerKind\": \"GitRepository\", \"GitRepository\": {\"name\":\"monorepo\",\"namespace\":\"weir-system\"}, \"namespace\": \"weir-system\", \"name\": \"monorepo\", \"reconcileID\": \"a5168581-23d8-4c64-867b-73986f5dd7b2\", \"error\": \"http://127.0.0.1:38579/acme/monorepo: dial tcp 127.0.0.1:38579: connect: connection refused\"}\n" +
		"sigs.k8s.io/controller-runtime/pkg/internal/controller.(*Controller[...]).reconcileHandler\n" +
		"\t/go/pkg/mod/sigs.k8s.io/controller-runtime@v0.25.2/pkg/internal/controller/controller.go:474"
	consoleNotify = "%s\tERROR\tnotification-controller.events\tnotification not delivered\t{\"provider\": \"weir-system/slack\", \"object\": \"GitRepository/weir-system/monorepo\", \"attempts\": 5, \"error\": \"sending the request: connection refused\"}"
)

// stamp is t as the controllers' console encoding writes it.
func stamp(t time.Time) string { return t.UTC().Format(consoleTime) }

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// localLogDir writes a weir local's directory: its kubeconfig (this package's API server's)
// and the controllers' log files, named and encoded as local mode writes them.
func localLogDir(t *testing.T, files map[string][]string) string {
	dir := t.TempDir()
	kc, err := os.ReadFile(env.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), kc, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, lines := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLogsLocalMode: with a weir local's kubeconfig, `weir logs` reads the controllers' log
// files (replicas' too, never kube-apiserver's), merges them by time and filters them by
// object, kind, level, age and count; -o json prints JSON lines with the JSON encoder's keys.
func TestLogsLocalMode(t *testing.T) {
	now := time.Now()
	at := func(ago time.Duration) string { return stamp(now.Add(-ago)) }
	dir := localLogDir(t, map[string][]string{
		"kustomize-controller.log": {
			fmt.Sprintf(consoleStart, at(3*time.Hour)),
			fmt.Sprintf(consoleWorkers, at(3*time.Hour)),
			fmt.Sprintf(consoleReconcile, at(2*time.Hour), "monorepo", "monorepo"),
			fmt.Sprintf(consoleReconcile, at(4*time.Minute), "frontend", "frontend"),
		},
		"kustomize-controller-2.log":  {fmt.Sprintf(consoleReconcile, at(3*time.Minute), "monorepo", "monorepo")},
		"source-controller.log":       {fmt.Sprintf(consoleError, at(5*time.Minute))},
		"notification-controller.log": {fmt.Sprintf(consoleNotify, at(1*time.Minute))},
		"kube-apiserver.log":          {fmt.Sprintf(consoleReconcile, at(time.Minute), "apiserver", "apiserver")},
	})
	logs := func(args ...string) (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := Execute(append([]string{"--kubeconfig", filepath.Join(dir, "kubeconfig"), "logs"}, args...), &out, &errOut); code != 0 {
			t.Fatalf("weir logs %v: code %d, stderr %q", args, code, errOut.String())
		}
		return out.String(), errOut.String()
	}

	out, _ := logs("--name", "monorepo", "-n", "weir-system")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		" INFO  kustomize-controller Kustomization/weir-system/monorepo reconciled",
		" ERROR source-controller GitRepository/weir-system/monorepo Reconciler error: http://127.0.0.1:38579/acme/monorepo: dial tcp 127.0.0.1:38579: connect: connection refused",
		" INFO  kustomize-controller-2 Kustomization/weir-system/monorepo reconciled",
		" ERROR notification-controller GitRepository/weir-system/monorepo notification not delivered: sending the request: connection refused",
	}
	if len(lines) != len(want) {
		t.Fatalf("want %d entries about monorepo, in time order, got:\n%s", len(want), out)
	}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], w) || !strings.HasPrefix(lines[i], now.UTC().Format("2006-01-02")[:4]) {
			t.Errorf("line %d: want …%q, got %q", i, w, lines[i])
		}
	}

	out, _ = logs("--kind", "ks", "--name", "monorepo", "-n", "weir-system", "--since", "1h")
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "kustomize-controller-2 Kustomization/weir-system/monorepo") {
		t.Errorf("--kind ks --since 1h: want the replica's entry only:\n%s", out)
	}
	out, _ = logs("--level", "error")
	if strings.Count(out, "\n") != 2 || strings.Contains(out, " INFO ") {
		t.Errorf("--level error: want the two errors:\n%s", out)
	}
	out, _ = logs("--tail", "2")
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "notification not delivered") || !strings.Contains(out, "kustomize-controller-2") {
		t.Errorf("--tail 2: want the two newest entries:\n%s", out)
	}
	if out, _ = logs(); strings.Contains(out, "apiserver") || strings.Count(out, "\n") != 7 {
		t.Errorf("without filters: want the 7 entries of the controllers' logs only:\n%s", out)
	}
	_, errOut := logs("--kind", "HelmRelease")
	if !strings.Contains(errOut, "No log entries match.") {
		t.Errorf("no match: stderr %q", errOut)
	}

	out, _ = logs("--level", "error", "-o", "json", "--kind", "gitrepository")
	var entries []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("-o json: %q is not JSON: %v", l, err)
		}
		entries = append(entries, m)
	}
	if len(entries) != 2 || entries[0]["msg"] != "Reconciler error" || entries[0]["level"] != "error" ||
		entries[0]["controllerKind"] != "GitRepository" || entries[0]["process"] != "source-controller" ||
		!strings.Contains(fmt.Sprint(entries[0]["stacktrace"]), "reconcileHandler") || entries[1]["logger"] != "notification-controller.events" {
		t.Errorf("-o json: want the two GitRepository errors with the JSON encoder's keys and the stack trace:\n%s", out)
	}
}

// TestLogsFollowLocal: `weir logs -f` prints entries appended after it started, filtered, until
// interrupted.
func TestLogsFollowLocal(t *testing.T) {
	dir := localLogDir(t, map[string][]string{
		"helm-controller.log": {fmt.Sprintf(consoleStart, stamp(time.Now()))},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- ExecuteContext(ctx, []string{"--kubeconfig", filepath.Join(dir, "kubeconfig"), "logs", "-f", "--name", "web", "-n", "weir-system"}, out, &syncBuffer{})
	}()
	f, err := os.OpenFile(filepath.Join(dir, "helm-controller.log"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	appendLine := func(name string) {
		line := strings.ReplaceAll(fmt.Sprintf(consoleReconcile, stamp(time.Now()), name, name), "Kustomization", "HelmRelease")
		if _, err := f.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	appendLine("other")
	appendLine("web")
	testenv.Eventually(t, 2*time.Minute, func() error {
		if !strings.Contains(out.String(), "helm-controller HelmRelease/weir-system/web reconciled\n") {
			return errorf("following: %q", out.String())
		}
		return nil
	})
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("logs -f ended with %d", code)
		}
	case <-time.After(time.Minute):
		t.Fatal("logs -f did not end when interrupted")
	}
	if strings.Contains(out.String(), "other") || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("want only web's entry:\n%s", out.String())
	}
}

// TestLogsReader: the JSON lines a controller's pod logs (--log-encoding=json, the Deployments'
// default) are filtered and formatted the same way, and passed through unchanged by -o json.
// (envtest has no kubelet to serve pods/log: this reads them from a reader.)
func TestLogsReader(t *testing.T) {
	lines := []string{
		`{"level":"info","ts":"2026-12-06T10:22:15.630Z","logger":"helm-controller","msg":"starting","version":"devel"}`,
		`{"level":"error","ts":"2026-12-06T10:23:24.320Z","msg":"Reconciler error","controller":"helmrelease","controllerGroup":"helm.weir.dev","controllerKind":"HelmRelease","HelmRelease":{"name":"podinfo","namespace":"apps"},"namespace":"apps","name":"podinfo","reconcileID":"a5","error":"install failed: timed out"}`,
		`{"level":"info","ts":"2026-12-06T10:23:25.000Z","msg":"event","name":"podinfo","namespace":"apps","reconciler kind":"HelmRelease","reason":"InstallSucceeded"}`,
		`not a log line`,
		`{"level":"info","ts":"2026-12-06T10:23:26.000Z","msg":"reconciled","controllerKind":"HelmRelease","namespace":"other","name":"podinfo"}`,
	}
	var got []*logEntry
	f := &logFilter{Kind: "HelmRelease", Namespace: "apps", Name: "podinfo"}
	if err := readLogEntries(strings.NewReader(strings.Join(lines, "\n")), "helm-controller", func(e *logEntry) {
		if f.match(e) {
			got = append(got, e)
		}
	}); err != nil {
		t.Fatal(err)
	}
	var human, js bytes.Buffer
	for _, e := range got {
		_ = (&logPrinter{out: &human}).print(e)
		_ = (&logPrinter{out: &js, json: true}).print(e)
	}
	want := "2026-12-06T10:23:24.320Z ERROR helm-controller HelmRelease/apps/podinfo Reconciler error: install failed: timed out\n" +
		"2026-12-06T10:23:25.000Z INFO  helm-controller HelmRelease/apps/podinfo event\n"
	if human.String() != want {
		t.Errorf("human output:\n%s\nwant:\n%s", human.String(), want)
	}
	if js.String() != lines[1]+"\n"+lines[2]+"\n" {
		t.Errorf("-o json should pass the lines through:\n%s", js.String())
	}
	lf := &logFilter{Level: "error"}
	if lf.match(got[1]) || !lf.match(got[0]) {
		t.Error("--level error should keep errors only")
	}
}

// TestLogsPodSelection: in a cluster, `weir logs` reads the pods of the four controllers (shards
// included) in the controllers' namespace, their manager container, and no other pod. (The API
// server lists the pods; without a kubelet, reading their logs fails, which weir reports per pod.)
func TestLogsPodSelection(t *testing.T) {
	ns := env.Namespace(t)
	pod := func(name string, labels map[string]string, containers ...string) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "weir/" + c})
		}
		if err := env.Client.Create(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	weirPod := func(controller string) map[string]string {
		return map[string]string{"app.kubernetes.io/part-of": "weir", nameLabel: controller}
	}
	pod("source-controller-5d9f", weirPod("source-controller"), "manager", "sidecar")
	pod("kustomize-controller-shard1-7c4b", weirPod("kustomize-controller-shard1"), "manager")
	pod("helm-controller-a", weirPod("helm-controller"), "manager")
	pod("helm-controller-b", weirPod("helm-controller"), "manager")
	pod("podinfo", map[string]string{nameLabel: "source-controller"}, "manager")
	pod("weir-ui", weirPod("weir-ui"), "manager")

	pods, err := controllerPods(context.Background(), env.Client, ns)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pods {
		got = append(got, p.name+"="+p.pod.Name+"/"+p.container)
	}
	want := []string{"helm-controller-a=helm-controller-a/manager", "helm-controller-b=helm-controller-b/manager",
		"kustomize-controller-shard1=kustomize-controller-shard1-7c4b/manager", "source-controller=source-controller-5d9f/manager"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pods:\n got %v\nwant %v", got, want)
	}

	// Reading the pods' logs through a proxy that fails every pods/log request shows which
	// pods weir reads.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	proxy, err := testenv.StartFaultProxy(ctx, env.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	kc, err := proxy.Kubeconfig("weir")
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	proxy.Inject(testenv.Fault{Mode: testenv.InternalError, For: 10 * time.Minute,
		Spare: func(r *http.Request) bool { return !strings.HasSuffix(r.URL.Path, "/log") }})
	var out, errBuf bytes.Buffer
	code := Execute([]string{"--kubeconfig", kcPath, "logs", "--controllers-namespace", ns}, &out, &errBuf)
	errOut := errBuf.String()
	for _, p := range []string{"helm-controller-a", "helm-controller-b", "kustomize-controller-shard1-7c4b", "source-controller-5d9f"} {
		if !strings.Contains(errOut, "reading the log of pod "+p+": ") {
			t.Errorf("weir logs should have read pod %s: %s", p, errOut)
		}
	}
	if code != 1 || strings.Contains(errOut, "podinfo") || strings.Contains(errOut, "weir-ui") {
		t.Errorf("code %d; weir logs should read the controllers' pods only, and fail when it can read none: %s", code, errOut)
	}
	code, _, errOut = weir(t, "logs", "--controllers-namespace", ns+"-none")
	if code != 1 || !strings.Contains(errOut, "no pods of Weir's controllers in namespace "+ns+"-none") {
		t.Errorf("no controllers: code %d, %q", code, errOut)
	}
}
