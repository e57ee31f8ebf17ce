package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// Each app directory of the fleet holds this many ConfigMaps.
const configMapsPerApp = 10

// fleetTimeout bounds every wait for the whole fleet.
const fleetTimeout = 15 * time.Minute

// BenchmarkFanOut100x10 measures one GitRepository fanning out to 100 Kustomizations (or
// $BENCH_N), each applying its own directory of 10 ConfigMaps: the wall time from creating the
// Kustomizations until all are Ready at the revision (s_all_ready), and what that costs
// kustomize-controller: its CPU time meanwhile (cpu_s) and its peak resident memory (MiB_peak_rss).
//
// The artifact is extracted once and shared by all Kustomizations, so the filesystem behind
// $TMPDIR no longer weighs much. `make bench` runs the full workloads of docs/benchmarks.md.
func BenchmarkFanOut100x10(b *testing.B) {
	n := fleetSize(b)
	c := startControllers(b, "bench-fanout")
	repo := newGitServer(b).newRepo(b, "org/fleet", fleetFiles(n, "0"))
	revision := repo.revision(b)

	var wall time.Duration
	var cpu float64
	for range b.N {
		b.StopTimer()
		ns := env.Namespace(b)
		waitArtifact(b, createGitRepository(b, ns, c.shard, repo.url), revision)
		cpuBefore := cpuSeconds(b, c.kustomizePID)
		b.StartTimer()

		start := time.Now()
		for i := range n {
			createKustomization(b, ns, c.shard, appName(i), "./apps/"+appName(i))
		}
		waitFleetApplied(b, ns, n, revision)
		wall += time.Since(start)
		cpu += cpuSeconds(b, c.kustomizePID) - cpuBefore
	}
	b.StopTimer()
	b.ReportMetric(wall.Seconds()/float64(b.N), "s_all_ready")
	b.ReportMetric(cpu/float64(b.N), "cpu_s")
	b.ReportMetric(peakRSSMiB(b, c.kustomizePID), "MiB_peak_rss")
	logControllerMetrics(b, c)
}

// BenchmarkCommitToApplied measures, with 100 Kustomizations (or $BENCH_N) Ready on one
// GitRepository, how long a commit that changes one ConfigMap of one directory takes to reach
// the cluster when the GitRepository is asked to reconcile at once (s_commit_to_applied), and
// until every Kustomization has applied it (s_commit_all_applied). Once, after the loop, it
// measures the same commit left to the GitRepository's 1m interval (s_commit_to_applied_untriggered).
func BenchmarkCommitToApplied(b *testing.B) {
	n := fleetSize(b)
	c := startControllers(b, "bench-commit")
	repo := newGitServer(b).newRepo(b, "org/fleet", fleetFiles(n, "0"))
	revision := repo.revision(b)
	ns := env.Namespace(b)
	src := createGitRepository(b, ns, c.shard, repo.url)
	waitArtifact(b, src, revision)
	for i := range n {
		createKustomization(b, ns, c.shard, appName(i), "./apps/"+appName(i))
	}
	waitFleetApplied(b, ns, n, revision)

	app := n / 2
	file, name := fleetFile(app, 3)
	commit := func(value string) (string, time.Time) {
		rev := repo.commit(b, "change "+name, map[string]string{file: configMap(name, value)})
		return rev, time.Now()
	}

	var one, all time.Duration
	b.ResetTimer()
	for i := range b.N {
		value := fmt.Sprintf("triggered-%d", i)
		rev, pushed := commit(value)
		requestReconcile(b, src)
		waitConfigMapValue(b, ns, name, value, fleetTimeout)
		one += time.Since(pushed)
		waitFleetApplied(b, ns, n, rev)
		all += time.Since(pushed)
	}
	b.StopTimer()
	b.ReportMetric(one.Seconds()/float64(b.N), "s_commit_to_applied")
	b.ReportMetric(all.Seconds()/float64(b.N), "s_commit_all_applied")

	// Without a request, source-controller sees the commit at the next 1m interval: anywhere
	// from 0 to 60s, so one sample only shows that the interval dominates.
	rev, pushed := commit("untriggered")
	waitConfigMapValue(b, ns, name, "untriggered", 2*time.Minute+fleetTimeout/10)
	b.ReportMetric(time.Since(pushed).Seconds(), "s_commit_to_applied_untriggered")
	waitFleetApplied(b, ns, n, rev)
	logControllerMetrics(b, c)
}

// fleetSize is the number of app directories and Kustomizations: 100, or $BENCH_N.
func fleetSize(tb testing.TB) int {
	tb.Helper()
	s := os.Getenv("BENCH_N")
	if s == "" {
		return 100
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		tb.Fatalf("BENCH_N=%q: want a positive number", s)
	}
	return n
}

func appName(i int) string { return fmt.Sprintf("app-%03d", i) }

// fleetFile returns the path and ConfigMap name of the j-th ConfigMap of app i.
func fleetFile(i, j int) (path, name string) {
	name = fmt.Sprintf("%s-cm-%02d", appName(i), j)
	return fmt.Sprintf("apps/%s/%s.yaml", appName(i), name), name
}

// fleetFiles returns n app directories of configMapsPerApp ConfigMaps holding value.
func fleetFiles(n int, value string) map[string]string {
	files := make(map[string]string, n*configMapsPerApp)
	for i := range n {
		for j := range configMapsPerApp {
			path, name := fleetFile(i, j)
			files[path] = configMap(name, value)
		}
	}
	return files
}

// waitFleetApplied waits until n Kustomizations in ns are Ready having applied revision. It
// lists them every 500ms: more often, the decoding in this process would take CPU from the
// controllers it measures.
func waitFleetApplied(tb testing.TB, ns string, n int, revision string) {
	tb.Helper()
	deadline := time.Now().Add(fleetTimeout)
	for {
		ready, notReady := countApplied(tb, ns, revision)
		if ready >= n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %s: %d of %d Kustomizations applied %s; one not Ready: %v", fleetTimeout, ready, n, revision, notReady)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// countApplied returns how many Kustomizations in ns are Ready having applied revision, and why
// one of the others is not Ready.
func countApplied(tb testing.TB, ns, revision string) (int, error) {
	tb.Helper()
	var list kustomizev1.KustomizationList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		tb.Fatal(err)
	}
	ready := 0
	var notReady error
	for i := range list.Items {
		ks := &list.Items[i]
		switch err := testenv.CheckCondition(ks, meta.ReadyCondition, metav1.ConditionTrue, "", ""); {
		case err != nil:
			notReady = err
		case ks.Status.LastAppliedRevision == revision:
			ready++
		}
	}
	return ready, notReady
}

// waitConfigMapValue polls ConfigMap ns/name every 20ms until its value is want.
func waitConfigMapValue(tb testing.TB, ns, name, want string, within time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		got := configMapValue(tb, ns, name)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %s: ConfigMap %s/%s value %q, want %q", within, ns, name, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every Linux platform Go
// supports (the kernel fixes it for user space whatever CONFIG_HZ is).
const clockTicks = 100

// cpuSeconds returns the user plus system CPU time pid has used, from /proc/<pid>/stat.
func cpuSeconds(tb testing.TB, pid int) float64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name, which is in parentheses and may hold spaces: state is
	// field 3, utime 14 and stime 15.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("/proc/%d/stat: utime %q, stime %q", pid, f[11], f[12])
	}
	return (utime + stime) / clockTicks
}

// peakRSSMiB returns pid's peak resident set size (VmHWM) in MiB.
func peakRSSMiB(tb testing.TB, pid int) float64 {
	tb.Helper()
	v := procStatus(pid, "VmHWM")
	kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
	if err != nil {
		tb.Fatalf("/proc/%d/status VmHWM %q: %v", pid, v, err)
	}
	return kb / 1024
}

// logControllerMetrics logs the kustomize-controller metrics that show where its time went:
// reconcile time and count, time waiting in the work queue, and requests to the API server.
func logControllerMetrics(tb testing.TB, c *controllers) {
	tb.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", c.kustomizeMetrics))
	if err != nil {
		tb.Logf("metrics: %v", err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Logf("metrics: %v", err)
		return
	}
	var lines []string
	for _, l := range strings.Split(string(body), "\n") {
		for _, prefix := range []string{
			`controller_runtime_reconcile_time_seconds_sum{controller="kustomization"`,
			`controller_runtime_reconcile_time_seconds_count{controller="kustomization"`,
			`controller_runtime_reconcile_total{controller="kustomization"`,
			`workqueue_queue_duration_seconds_sum{controller="kustomization"`,
			`workqueue_queue_duration_seconds_count{controller="kustomization"`,
			`rest_client_requests_total`,
			`go_memstats_heap_inuse_bytes`,
			`go_goroutines`,
		} {
			if strings.HasPrefix(l, prefix) && !strings.HasSuffix(l, " 0") {
				lines = append(lines, l)
			}
		}
	}
	tb.Logf("kustomize-controller metrics:\n%s", strings.Join(lines, "\n"))
}
