package e2e

import (
	"fmt"
	"testing"
	"time"

	"weir.dev/cli/internal/local"
	"weir.dev/pkg/testenv"
)

// TestDemoMetrics scrapes each controller of the running demo: every demo object has its
// Ready gauge at 1 and a reconcile duration in its controller's /metrics, and kustomize-controller
// counts the artifact bytes it downloaded.
func TestDemoMetrics(t *testing.T) {
	type series struct {
		controller, name string
		labels           map[string]string
	}
	ready := func(controller, kind, name string) []series {
		id := map[string]string{"kind": kind, "name": name, "namespace": local.DemoNamespace}
		cond := map[string]string{"type": "Ready", "status": "True"}
		for k, v := range id {
			cond[k] = v
		}
		return []series{
			{controller, "weir_reconcile_condition", cond},
			{controller, "weir_reconcile_duration_seconds", id},
		}
	}
	want := ready("source-controller", "GitRepository", "demo")
	want = append(want, ready("source-controller", "HelmRepository", "demo")...)
	want = append(want, ready("helm-controller", "HelmRelease", env.Demo.HelmRelease)...)
	for _, k := range env.Demo.Kustomizations {
		want = append(want, ready("kustomize-controller", "Kustomization", k)...)
	}
	// Not a Helm action count: a test before this one may have restarted helm-controller, which
	// then finds the release as it wants it and runs none.
	want = append(want, series{"kustomize-controller", "weir_artifact_fetch_bytes_total", nil})

	urls := map[string]string{}
	for _, c := range env.Controllers {
		urls[c.Name] = "http://" + c.MetricsAddr + "/metrics"
	}
	eventually(t, 2*time.Minute, "every demo series in the controllers' /metrics", func() error {
		scrapes := map[string]testenv.Scrape{}
		for _, s := range want {
			sc, ok := scrapes[s.controller]
			if !ok {
				url, found := urls[s.controller]
				if !found {
					return fmt.Errorf("no controller %s in the local environment", s.controller)
				}
				var err error
				if sc, err = testenv.ScrapeMetrics(url); err != nil {
					return err
				}
				scrapes[s.controller] = sc
			}
			if v, ok := sc.Value(s.name, s.labels); !ok || v < 1 {
				return fmt.Errorf("%s: %s%v is %v (present: %v), want at least 1", s.controller, s.name, s.labels, v, ok)
			}
		}
		return nil
	})
}
