package controller

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/testenv"
)

// TestMetricsScrape scrapes /metrics (controller-runtime's metrics server on 127.0.0.1) after
// real reconciles: a Ready Kustomization has its Ready gauge at 1 and its durations observed;
// a drift it corrected and an object it pruned are counted, and so are the artifact bytes it
// downloaded; once it is deleted, its series are gone. Counters are process-wide, so the test
// compares them with a scrape taken before.
func TestMetricsScrape(t *testing.T) {
	ctx := context.Background()
	url := testenv.ServeMetrics(t)
	ns := env.Namespace(t)
	before, err := testenv.ScrapeMetrics(url)
	if err != nil {
		t.Fatal(err)
	}
	prunedBefore, _ := before.Value("weir_prune_total", map[string]string{"kind": "ConfigMap"})
	bytesBefore, _ := before.Value("weir_artifact_fetch_bytes_total", nil)
	missesBefore, _ := before.Value("weir_artifact_cache_requests_total", map[string]string{"result": "miss"})

	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/a.yaml": configMap("a", "1"), "app/b.yaml": configMap("b", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns; k.Spec.Prune = true })
	waitApplied(t, ks, "main@sha1:1")

	// Someone edits an applied object: the next reconcile corrects it and counts it.
	var cm corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a"}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["value"] = "edited"
	if err := env.Client.Update(ctx, &cm, client.FieldOwner("metrics-test-edit")); err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, ks)
	waitConfigMap(t, ns, "a", "1")

	// A revision without b prunes it.
	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/a.yaml": configMap("a", "1")})
	waitApplied(t, ks, "main@sha1:2")

	obj := map[string]string{"kind": "Kustomization", "namespace": ns, "name": "app"}
	with := func(extra ...string) map[string]string {
		l := map[string]string{}
		for k, v := range obj {
			l[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	var s testenv.Scrape
	testenv.Eventually(t, timeout, func() error {
		var err error
		if s, err = testenv.ScrapeMetrics(url); err != nil {
			return err
		}
		return s.Check([]testenv.Series{
			testenv.Expect("weir_reconcile_condition", with("type", "Ready", "status", "True"), testenv.Is(1)),
			testenv.Expect("weir_reconcile_condition", with("type", "Ready", "status", "False"), testenv.Is(0)),
			testenv.Expect("weir_reconcile_condition", with("type", "Stalled", "status", "False"), testenv.Is(1)),
			testenv.Expect("weir_reconcile_condition", with("type", "Reconciling", "status", "True"), testenv.Is(0)),
			testenv.Expect("weir_suspend_status", obj, testenv.Is(0)),
			testenv.Expect("weir_reconcile_duration_seconds", obj, testenv.Above(2)), // three reconciles at least
			testenv.Expect("weir_drift_corrections_total", map[string]string{"kind": "ConfigMap", "manager": "metrics-test-edit"}, testenv.Is(1)),
			testenv.Expect("weir_prune_total", map[string]string{"kind": "ConfigMap"}, testenv.Above(prunedBefore)),
			testenv.Expect("weir_artifact_fetch_bytes_total", nil, testenv.Above(bytesBefore)),
			testenv.Expect("weir_artifact_cache_requests_total", map[string]string{"result": "miss"}, testenv.Above(missesBefore)),
			testenv.Expect("controller_runtime_reconcile_total", map[string]string{"controller": "kustomization", "result": "requeue_after"}, testenv.Above(0)),
		})
	})
	testenv.CheckRecordedMetrics(t, s, filepath.Join(env.RepoRoot, "pkg", "manifests", "testdata", "metrics", "kustomize-controller.txt"))

	// A deleted object loses its series.
	if err := env.Client.Delete(ctx, ks); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		s, err := testenv.ScrapeMetrics(url)
		if err != nil {
			return err
		}
		for _, name := range []string{"weir_reconcile_condition", "weir_suspend_status", "weir_reconcile_duration_seconds"} {
			if _, ok := s.Value(name, obj); ok {
				return fmt.Errorf("%s still has a series of the deleted Kustomization", name)
			}
		}
		return nil
	})
}
