package chart

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	hchart "helm.sh/helm/v3/pkg/chart"

	"weir.dev/source-controller/internal/helmrepo"
	"weir.dev/source-controller/internal/helmtest"
)

// BenchmarkPackageChartTwoDependencies measures what a HelmChart from a Git source with two
// dependencies costs once the source is on disk (three `helm create` scaffold charts): load the chart directory, resolve a local
// (file://) dependency and a remote one from a Helm repository over HTTP on 127.0.0.1 (index
// selection, download, load), merge two values files, and package the result.
func BenchmarkPackageChartTwoDependencies(b *testing.B) {
	helmtest.IsolateHelm(b)
	root := b.TempDir()
	repo := helmtest.NewRepo(b, helmtest.RepoOptions{})
	repo.Publish(b, helmtest.NewChart(b, filepath.Join(root, "published"), helmtest.Chart{Name: "redis", Version: "17.2.0", Scaffold: true}))
	src := filepath.Join(root, "source")
	helmtest.NewChart(b, filepath.Join(src, "charts"), helmtest.Chart{Name: "lib", Version: "0.3.1", Scaffold: true})
	app := helmtest.NewChart(b, filepath.Join(src, "charts"), helmtest.Chart{Name: "app", Version: "1.0.0", Scaffold: true,
		Files: map[string]string{"values-prod.yaml": "replicaCount: 3\n"},
		Dependencies: []helmtest.Dependency{
			{Name: "lib", Version: "~0.3", Repository: "file://../lib"},
			{Name: "redis", Version: "17.x", Repository: repo.URL},
		}})
	u, _ := url.Parse(repo.URL)
	client := &helmrepo.Client{URL: u, HTTP: &http.Client{}}
	ctx := context.Background()
	remote := func(ctx context.Context, dep *hchart.Dependency) (*hchart.Chart, error) {
		data, err := client.FetchIndex(ctx, helmrepo.DefaultMaxIndexSize)
		if err != nil {
			return nil, err
		}
		idx, _, err := helmrepo.ParseIndex(data)
		if err != nil {
			return nil, err
		}
		cv, err := helmrepo.Select(idx, dep.Name, dep.Version)
		if err != nil {
			return nil, err
		}
		archive, err := client.FetchChart(ctx, cv, DefaultMaxSize)
		if err != nil {
			return nil, err
		}
		return LoadArchive(archive, Limits{})
	}
	values, _ := os.ReadFile(filepath.Join(app, "values.yaml"))
	prod, _ := os.ReadFile(filepath.Join(app, "values-prod.yaml"))
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	for b.Loop() {
		ch, err := LoadDir(app, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		added, err := (&Dependencies{Root: src, Remote: remote}).Build(ctx, ch, app)
		if err != nil || len(added) != 2 {
			b.Fatalf("dependencies %v: %v", added, err)
		}
		data, merged, err := MergeValues([]ValuesFile{{Name: "values.yaml", Data: values}, {Name: "values-prod.yaml", Data: prod}})
		if err != nil {
			b.Fatal(err)
		}
		SetValues(ch, data, merged)
		var buf bytes.Buffer
		if err := Package(&buf, ch); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "bytes/chart")
}
