package controller

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/repo"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
)

// e2eLabel marks the objects the real source-controller of TestWithSourceController handles;
// it ignores the HelmCharts the other tests publish by hand.
const e2eLabel = "weir.dev/e2e"

// helmRepository is a real Helm chart repository on 127.0.0.1: packaged charts and an
// index.yaml written by Helm's own repo package, served over HTTP.
type helmRepository struct {
	dir string
	srv *httptest.Server
}

func newHelmRepository(t *testing.T) *helmRepository {
	t.Helper()
	r := &helmRepository{dir: t.TempDir()}
	r.srv = httptest.NewServer(http.FileServer(http.Dir(r.dir)))
	t.Cleanup(r.srv.Close)
	return r
}

// add packages c into the repository and rewrites its index.
func (r *helmRepository) add(t *testing.T, c testChart) {
	t.Helper()
	b := packageChart(t, c)
	if err := os.WriteFile(filepath.Join(r.dir, fmt.Sprintf("%s-%s.tgz", c.name, c.version)), b, 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := repo.IndexDirectory(r.dir, r.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(r.dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWithSourceController proves the whole chain with the real source-controller binary: a
// HelmRelease's spec.chart becomes a HelmChart, source-controller pulls the chart from a Helm
// repository on 127.0.0.1 and stores it, and helm-controller fetches the artifact from
// source-controller's storage and installs it; a new version in the repository is upgraded
// to; a version the repository does not have is reported by name.
func TestWithSourceController(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	ctx := context.Background()
	charts := newHelmRepository(t)
	charts.add(t, testChart{name: "podinfo", version: "1.0.0"})

	bin := testenv.BuildBinary(t, filepath.Join(env.RepoRoot, "source-controller"))
	storagePort := testenv.FreePort(t)
	healthPort := testenv.FreePort(t)
	// Consumers are told to fetch from the test's artifact server, which passes what it does
	// not hold on to source-controller's storage: one allowed host for every test.
	artifacts.proxyTo(t, fmt.Sprintf("http://127.0.0.1:%d", storagePort))
	p := testenv.StartProcess(t, bin,
		"--kubeconfig="+env.KubeconfigPath,
		"--storage-path="+t.TempDir(),
		fmt.Sprintf("--storage-addr=127.0.0.1:%d", storagePort),
		"--storage-adv-addr="+artifacts.host(),
		fmt.Sprintf("--health-addr=127.0.0.1:%d", healthPort),
		"--metrics-addr=0",
		"--log-encoding=console",
		"--watch-label-selector="+e2eLabel+"=true",
	)
	if err := p.WaitHTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", healthPort), 60*time.Second); err != nil {
		t.Fatal(err)
	}

	hrepo := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "charts", Labels: map[string]string{e2eLabel: "true"}},
		Spec:       sourcev1.HelmRepositorySpec{URL: charts.srv.URL, Interval: &metav1.Duration{Duration: time.Hour}},
	}
	if err := env.Client.Create(ctx, hrepo); err != nil {
		t.Fatal(err)
	}
	template := func(version string) *helmv1.HelmChartTemplate {
		return &helmv1.HelmChartTemplate{
			ObjectMeta: &helmv1.HelmChartTemplateObjectMeta{Labels: map[string]string{e2eLabel: "true"}},
			Spec: helmv1.HelmChartTemplateSpec{
				Chart: "podinfo", Version: version,
				SourceRef: helmv1.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts"},
			},
		}
	}
	hr := createHelmRelease(t, ns, "podinfo", func(hr *helmv1.HelmRelease) {
		hr.Spec.ChartRef = nil
		hr.Spec.Chart = template("1.x")
		hr.Spec.Values = jsonValues(`{"from": "e2e"}`)
	})
	missing := createHelmRelease(t, ns, "missing", func(hr *helmv1.HelmRelease) {
		hr.Spec.ChartRef = nil
		hr.Spec.Chart = template("9.9.9")
	})
	// Delete them while source-controller still runs (cleanups run last first), so they do not
	// go on fetching from it after the test.
	t.Cleanup(func() {
		for _, o := range []*helmv1.HelmRelease{hr, missing} {
			if err := env.Client.Delete(context.Background(), o); err == nil {
				waitGone(t, o)
			}
		}
	})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	waitRendered(t, ns, "podinfo", "from", `"e2e"`)
	waitRendered(t, ns, "podinfo", "_chartVersion", `"1.0.0"`)
	waitNotReady(t, missing, meta.DependencyNotReadyReason, "9.9.9", false)
	t.Logf("a missing version reads: %s", conditionMessage(missing, meta.ReadyCondition))
	wantRevisions(t, ns, "missing")

	// A new version in the repository: the HelmRepository's new index, then the HelmChart's
	// new artifact, then the upgrade.
	charts.add(t, testChart{name: "podinfo", version: "1.1.0"})
	token := time.Now().Format(time.RFC3339Nano)
	for _, o := range []client.Object{hrepo, &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ns + "-podinfo"}}} {
		testenv.Eventually(t, timeout, func() error {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return err
			}
			o.SetAnnotations(map[string]string{meta.ReconcileRequestAnnotation: token})
			return env.Client.Update(ctx, o)
		})
	}
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.1.0")
	waitRendered(t, ns, "podinfo", "_chartVersion", `"1.1.0"`)
	wantRevisions(t, ns, "podinfo", "1:superseded", "2:deployed")
}
