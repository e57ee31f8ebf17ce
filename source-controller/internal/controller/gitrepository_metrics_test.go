package controller

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
)

// TestMetricsScrape scrapes /metrics (controller-runtime's metrics server on 127.0.0.1) after
// real reconciles: a GitRepository that fetched is Ready (gauge 1), one whose repository does
// not exist is not (Ready False 1), a suspended one says so, and a deleted one loses its series.
func TestMetricsScrape(t *testing.T) {
	ctx := context.Background()
	url := testenv.ServeMetrics(t)
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"a.yaml": "a"})
	good := createGitRepository(t, ns, "good", srv.URL("org/app.git"), nil)
	waitRevision(t, good, "main@sha1:"+srv.Head(t, "org/app.git"))
	bad := createGitRepository(t, ns, "bad", srv.URL("org/missing.git"), nil)
	testenv.Eventually(t, timeout, env.ObjectIn(bad, meta.ReadyCondition, metav1.ConditionFalse, "", ""))

	series := func(name, typ, status string) map[string]string {
		return map[string]string{"kind": "GitRepository", "namespace": ns, "name": name, "type": typ, "status": status}
	}
	object := func(name string) map[string]string {
		return map[string]string{"kind": "GitRepository", "namespace": ns, "name": name}
	}
	var s testenv.Scrape
	testenv.Eventually(t, timeout, func() error {
		var err error
		if s, err = testenv.ScrapeMetrics(url); err != nil {
			return err
		}
		return s.Check([]testenv.Series{
			testenv.Expect("weir_reconcile_condition", series("good", "Ready", "True"), testenv.Is(1)),
			testenv.Expect("weir_reconcile_condition", series("good", "Ready", "False"), testenv.Is(0)),
			testenv.Expect("weir_reconcile_condition", series("bad", "Ready", "False"), testenv.Is(1)),
			testenv.Expect("weir_reconcile_condition", series("bad", "Ready", "True"), testenv.Is(0)),
			testenv.Expect("weir_suspend_status", object("good"), testenv.Is(0)),
			testenv.Expect("weir_reconcile_duration_seconds", object("good"), testenv.Above(0)),
			testenv.Expect("weir_reconcile_duration_seconds", object("bad"), testenv.Above(0)),
		})
	})
	testenv.CheckRecordedMetrics(t, s, filepath.Join(env.RepoRoot, "pkg", "manifests", "testdata", "metrics", "source-controller.txt"))

	patch := client.MergeFrom(good.DeepCopy())
	good.Spec.Suspend = true
	if err := env.Client.Patch(ctx, good, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		s, err := testenv.ScrapeMetrics(url)
		if err != nil {
			return err
		}
		return s.Check([]testenv.Series{testenv.Expect("weir_suspend_status", object("good"), testenv.Is(1))})
	})

	for _, o := range []*sourcev1.GitRepository{good, bad} {
		if err := env.Client.Delete(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, timeout, func() error {
		s, err := testenv.ScrapeMetrics(url)
		if err != nil {
			return err
		}
		for _, name := range []string{"weir_reconcile_condition", "weir_suspend_status", "weir_reconcile_duration_seconds"} {
			for _, o := range []string{"good", "bad"} {
				if _, ok := s.Value(name, object(o)); ok {
					return fmt.Errorf("%s still has a series of the deleted GitRepository %s", name, o)
				}
			}
		}
		return nil
	})
}
