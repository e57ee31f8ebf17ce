package ui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// benchObjects is the list view's benchmark size (the 2,000 objects).
const benchObjects = 2000

// benchNamespace creates benchObjects Kustomizations in a namespace, one in twenty failing,
// one in fifty progressing, the rest Ready, and returns the namespace.
func benchNamespace(b *testing.B) string {
	b.Helper()
	ns := env.Namespace(b)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				conds := readyTrue(fmt.Sprintf("applied revision main@sha1:%040d", i))
				switch {
				case i%20 == 0:
					conds = []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionFalse, "BuildFailed", fmt.Sprintf("apps/app-%04d/kustomization.yaml: accumulating resources: 'missing.yaml' not found", i))}
				case i%50 == 1:
					conds = []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionUnknown, meta.ProgressingReason, "reconciliation in progress"), cond(meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason, "reconciliation in progress")}
				}
				create(b, kustomization(ns, fmt.Sprintf("app-%04d", i), conds))
			}
		}()
	}
	for i := range benchObjects {
		work <- i
	}
	close(work)
	wg.Wait()
	return ns
}

// BenchmarkListView2000 measures the list view over 2,000 Kustomizations: the server's answer
// (filter, sort failing first, render a page) and, in headless Chromium, the navigation until
// the rows are on screen. Run with `make bench-ui`.
func BenchmarkListView2000(b *testing.B) {
	ns := benchNamespace(b)
	// A Kustomization managing 2,000 ConfigMaps, 500 of them in the cluster: its page shows 200.
	var ids []string
	for i := range benchObjects {
		ids = append(ids, fmt.Sprintf("%s_cm-%04d__ConfigMap", ns, i))
	}
	create(b, kustomization(ns, "inventory", readyTrue("applied"), ids...))
	configMaps(b, ns, 500)
	s, base := serve(b, env.Config)
	if n := len(s.store.snapshot()); n < benchObjects {
		b.Fatalf("the store holds %d objects, want at least %d", n, benchObjects)
	}
	for _, tc := range []struct{ name, query string }{
		{"serve/100-rows", "/objects?namespace=" + ns},
		{"serve/500-rows", "/objects?namespace=" + ns + "&per=500"},
		{"serve/text-filter", "/objects?namespace=" + ns + "&q=app-19"},
		{"serve/overview", "/"},
		{"serve/object-2000-inventory", "/objects/kustomization/" + ns + "/inventory"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				res, err := http.Get(base + tc.query)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", tc.query, res.StatusCode)
				}
			}
		})
	}
	// What the UI keeps per object: the heap that fresh servers hold once their watches listed.
	// Every server stays up until the end, so that none is half torn down when the heap is read.
	b.Run("store-heap", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var kept []*Server
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for b.Loop() {
			s, err := New(ctx, Options{Config: env.Config, StartTimeout: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			if n := len(s.store.snapshot()); n < benchObjects {
				b.Fatalf("the store holds %d objects", n)
			}
			kept = append(kept, s)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc))/float64(len(kept))/float64(len(kept[0].store.snapshot())), "heap-B/object")
	})

	ctx := newBrowser(b)
	for _, tc := range []struct {
		name, query string
		rows        int
	}{
		{"browser/100-rows", "/objects?namespace=" + ns, 100},
		{"browser/500-rows", "/objects?namespace=" + ns + "&per=500", 500},
	} {
		b.Run(tc.name, func(b *testing.B) {
			wait := fmt.Sprintf(`document.querySelectorAll('#rows tr.row').length === %d && document.readyState === 'complete'`, tc.rows)
			for b.Loop() {
				if err := chromedp.Do(ctx, chromedp.Navigate(base+tc.query)); err != nil {
					b.Fatal(err)
				}
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool](wait)); err != nil {
					b.Fatal(err)
				}
			}
			first := eval[string](b, ctx, `document.querySelector('#rows tr.row').dataset.key`)
			if !strings.HasSuffix(first, "/app-0000") {
				b.Errorf("the first row is %s, want the first failing object", first)
			}
		})
	}
}
