package controller

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// benchReleases is how many releases BenchmarkInstall50 installs.
const benchReleases = 50

// BenchmarkInstall50 installs 50 releases of a small chart (one ConfigMap) through the
// in-process controller (8 workers) against the real API server, then requests a reconcile
// of all of them with nothing changed. It reports the wall time of each phase, the process's
// peak resident memory (VmHWM: the controller and the test, not the API server and etcd,
// which are other processes) and the peak Go heap sampled during the run. Run it once:
//
//	go test -run '^$' -bench BenchmarkInstall50 -benchtime 1x ./internal/controller
func BenchmarkInstall50(b *testing.B) {
	for b.Loop() {
		ns := env.Namespace(b)
		publishChart(b, ns, "chart", testChart{})
		stop := sampleHeap()

		start := time.Now()
		for i := range benchReleases {
			createHelmRelease(b, ns, fmt.Sprintf("app-%02d", i), func(hr *helmv1.HelmRelease) {
				hr.Spec.Values = jsonValues(fmt.Sprintf(`{"index": %d}`, i))
			})
		}
		waitAllReady(b, ns, func(hr *helmv1.HelmRelease) bool { return true })
		install := time.Since(start)
		if n := helmRecords(b, ns); n != benchReleases {
			b.Fatalf("%d release records after the installs, want %d", n, benchReleases)
		}

		token := time.Now().Format(time.RFC3339Nano)
		start = time.Now()
		var list helmv1.HelmReleaseList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			b.Fatal(err)
		}
		for i := range list.Items {
			hr := &list.Items[i]
			patch := client.MergeFrom(hr.DeepCopy())
			hr.Annotations = map[string]string{meta.ReconcileRequestAnnotation: token}
			if err := env.Client.Patch(context.Background(), hr, patch); err != nil {
				b.Fatal(err)
			}
		}
		waitAllReady(b, ns, func(hr *helmv1.HelmRelease) bool { return hr.Status.LastHandledReconcileAt == token })
		noop := time.Since(start)
		if n := helmRecords(b, ns); n != benchReleases {
			b.Fatalf("%d release records after the no-op reconcile, want %d: something was upgraded", n, benchReleases)
		}

		heap := stop()
		b.ReportMetric(install.Seconds(), "install-s")
		b.ReportMetric(noop.Seconds(), "noop-reconcile-s")
		b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-rss-MiB")
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
	}
}

// waitAllReady waits until every HelmRelease in ns is Ready at its generation and passes ok.
func waitAllReady(b *testing.B, ns string, ok func(*helmv1.HelmRelease) bool) {
	b.Helper()
	testenv.Eventually(b, 5*time.Minute, func() error {
		var list helmv1.HelmReleaseList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return err
		}
		ready := 0
		for i := range list.Items {
			hr := &list.Items[i]
			if testenv.CheckCondition(hr, meta.ReadyCondition, metav1.ConditionTrue, "", "") == nil &&
				hr.Status.ObservedGeneration == hr.Generation && ok(hr) {
				ready++
			}
		}
		if ready != benchReleases {
			return fmt.Errorf("%d of %d releases ready", ready, benchReleases)
		}
		return nil
	})
}

// helmRecords counts Helm's release records (one per revision) in ns.
func helmRecords(b *testing.B, ns string) int {
	b.Helper()
	var list corev1.SecretList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns), client.MatchingLabels{"owner": "helm"}); err != nil {
		b.Fatal(err)
	}
	return len(list.Items)
}

// sampleHeap samples the live Go heap every 20ms until the returned function is called,
// which returns the largest sample.
func sampleHeap() func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
	)
	done := make(chan struct{})
	stopped := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(stopped)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// peakRSS is the process's peak resident set size in bytes (VmHWM of /proc/self/status).
func peakRSS(b *testing.B) uint64 {
	b.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
