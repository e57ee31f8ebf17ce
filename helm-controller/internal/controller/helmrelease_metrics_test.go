package controller

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/pkg/testenv"
)

// TestMetricsScrape scrapes /metrics (controller-runtime's metrics server on 127.0.0.1) after a
// real install: the HelmRelease's Ready gauge is 1 and its durations observed, the install and
// the chart download are counted; deleting it counts the uninstall and drops its series.
// Counters are process-wide and other tests run in parallel, so they are compared with a scrape
// taken before.
func TestMetricsScrape(t *testing.T) {
	url := testenv.ServeMetrics(t)
	ns := env.Namespace(t)
	before, err := testenv.ScrapeMetrics(url)
	if err != nil {
		t.Fatal(err)
	}
	installs, _ := before.Value("weir_helm_actions_total", map[string]string{"action": "install", "result": "success"})
	uninstalls, _ := before.Value("weir_helm_actions_total", map[string]string{"action": "uninstall", "result": "success"})
	fetched, _ := before.Value("weir_artifact_fetch_bytes_total", nil)

	publishChart(t, ns, "chart", testChart{version: "1.0.0"})
	hr := createHelmRelease(t, ns, "app", nil)
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	obj := map[string]string{"kind": "HelmRelease", "namespace": ns, "name": "app"}
	ready := map[string]string{"kind": "HelmRelease", "namespace": ns, "name": "app", "type": "Ready", "status": "True"}
	var s testenv.Scrape
	testenv.Eventually(t, timeout, func() error {
		var err error
		if s, err = testenv.ScrapeMetrics(url); err != nil {
			return err
		}
		return s.Check([]testenv.Series{
			testenv.Expect("weir_reconcile_condition", ready, testenv.Is(1)),
			testenv.Expect("weir_suspend_status", obj, testenv.Is(0)),
			testenv.Expect("weir_reconcile_duration_seconds", obj, testenv.Above(0)),
			testenv.Expect("weir_helm_actions_total", map[string]string{"action": "install", "result": "success"}, testenv.Above(installs)),
			testenv.Expect("weir_artifact_fetch_bytes_total", nil, testenv.Above(fetched)),
		})
	})
	testenv.CheckRecordedMetrics(t, s, filepath.Join(env.RepoRoot, "pkg", "manifests", "testdata", "metrics", "helm-controller.txt"))

	if err := env.Client.Delete(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		s, err := testenv.ScrapeMetrics(url)
		if err != nil {
			return err
		}
		if err := s.Check([]testenv.Series{
			testenv.Expect("weir_helm_actions_total", map[string]string{"action": "uninstall", "result": "success"}, testenv.Above(uninstalls)),
		}); err != nil {
			return err
		}
		for _, name := range []string{"weir_reconcile_condition", "weir_suspend_status", "weir_reconcile_duration_seconds"} {
			if _, ok := s.Value(name, obj); ok {
				return fmt.Errorf("%s still has a series of the deleted HelmRelease", name)
			}
		}
		return nil
	})
}
