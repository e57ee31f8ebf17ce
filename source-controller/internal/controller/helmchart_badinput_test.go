package controller

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	hrepo "helm.sh/helm/v3/pkg/repo"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/source-controller/internal/chart"
	"weir.dev/source-controller/internal/gittest"
	"weir.dev/source-controller/internal/helmtest"
)

// TestHelmChartBadArchives: hostile chart archives in a Helm repository fail with
// ChartPackageFailed naming the entry or limit, write nothing outside, and store nothing.
func TestHelmChartBadArchives(t *testing.T) {
	ns := env.Namespace(t)
	repo := helmtest.NewRepo(t, helmtest.RepoOptions{User: "helm", Password: "Bad-Arch-5Gh"})
	chartYAML := func(name string) helmtest.Entry {
		return helmtest.Entry{Name: name + "/Chart.yaml", Body: helmtest.ChartYAML(name, "1.0.0")}
	}
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hanging.Close)
	cases := []struct {
		chart   string
		entries []helmtest.Entry
		message string
		reason  string
		mutate  func(*sourcev1.HelmChart)
	}{
		{chart: "parent", entries: []helmtest.Entry{chartYAML("parent"), {Name: "parent/../../weir-chart-escape.yaml", Body: "x"}},
			message: "'parent/../../weir-chart-escape.yaml' has a '..' path segment"},
		{chart: "absolute", entries: []helmtest.Entry{chartYAML("absolute"), {Name: "/tmp/weir-chart-absolute.yaml", Body: "x"}},
			message: "'/tmp/weir-chart-absolute.yaml' has an absolute path"},
		{chart: "bomb", entries: []helmtest.Entry{chartYAML("bomb"), {Name: "bomb/templates/bomb.yaml", Size: chart.DefaultMaxFileSize + 1}},
			message: "file 'bomb/templates/bomb.yaml' is 5242881 bytes, over the limit of 5242880 bytes per file"},
		{chart: "wide", entries: []helmtest.Entry{chartYAML("wide"), {Name: "wide/a", Size: 4 << 20}, {Name: "wide/b", Size: 4 << 20}, {Name: "wide/c", Size: 4 << 20}},
			message: "chart is larger than 10485760 bytes uncompressed"},
		{chart: "impostor", entries: []helmtest.Entry{chartYAML("other")}, message: "holds chart 'other' version '1.0.0'"},
		{chart: "slow", message: "timed out after 1s", reason: sourcev1.ChartPullFailedReason,
			mutate: func(o *sourcev1.HelmChart) { o.Spec.Timeout = &metav1.Duration{Duration: time.Second} }},
	}
	for _, tc := range cases {
		if tc.entries != nil {
			repo.PublishArchive(t, tc.chart+"-1.0.0.tgz", tc.chart, "1.0.0", helmtest.TarGz(t, tc.entries...))
		}
	}
	repo.PublishArchive(t, "slow-1.0.0.tgz", "slow", "1.0.0", nil)
	repo.RewriteIndex(t, func(idx *hrepo.IndexFile) {
		idx.Entries["slow"][0].URLs = []string{hanging.URL + "/slow-1.0.0.tgz"}
	})
	createSecret(t, ns, "creds", map[string][]byte{"username": []byte("helm"), "password": []byte("Bad-Arch-5Gh")})
	createHelmRepository(t, ns, "charts", repo.URL, func(o *sourcev1.HelmRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"} })
	for _, tc := range cases {
		t.Run(tc.chart, func(t *testing.T) {
			hc := createHelmChart(t, ns, tc.chart, sourcev1.HelmRepositoryKind, "charts", tc.chart, tc.mutate)
			reason := tc.reason
			if reason == "" {
				reason = sourcev1.ChartPackageFailedReason
			}
			waitFailure(t, hc, reason, tc.message, false)
			if hc.Status.Artifact != nil {
				t.Errorf("an artifact was stored: %+v", hc.Status.Artifact)
			}
			assertNoLeak(t, hc, "Bad-Arch-5Gh")
		})
	}
	assertNoFileNamed(t, "weir-chart-escape.yaml")
	assertNoFileNamed(t, "weir-chart-absolute.yaml")
}

// TestHelmChartBadSourceContent: bad charts and specs in a Git source fail with a specific
// reason and a message naming the file or field at fault.
func TestHelmChartBadSourceContent(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	files := merge(
		chartFiles(t, "good/", helmtest.Chart{Name: "good", Version: "1.0.0"}),
		chartFiles(t, "orphan/", helmtest.Chart{Name: "orphan", Version: "1.0.0", Dependencies: []helmtest.Dependency{{Name: "redis", Version: "1.x", Repository: "https://charts.example.invalid"}}}),
		chartFiles(t, "escape/", helmtest.Chart{Name: "escape", Version: "1.0.0", Dependencies: []helmtest.Dependency{{Name: "etc", Repository: "file://../../../../../../etc"}}}),
		map[string]string{
			"evil/Chart.yaml":  "apiVersion: v2\nname: ../x\nversion: 1.0.0\n",
			"values/list.yaml": "- not\n- a map\n",
		},
	)
	srv.NewRepo(t, "org/bad.git", "main", files)
	gr := createGitRepository(t, ns, "src", srv.URL("org/bad.git"), nil)
	waitRevision(t, gr, "main@sha1:"+srv.Head(t, "org/bad.git"))
	cases := []struct {
		name, chart string
		mutate      func(*sourcev1.HelmChart)
		reason      string
		message     string
		stalled     bool
	}{
		{name: "chart named ../x", chart: "evil", reason: sourcev1.ChartPackageFailedReason, message: `chart.metadata.name "../x" is invalid`},
		{name: "no such chart path", chart: "nope", reason: sourcev1.ChartPackageFailedReason, message: "spec.chart: 'nope' does not exist in revision"},
		{name: "missing values file", chart: "good", mutate: withValues("values/prod.yaml"), reason: sourcev1.ChartPackageFailedReason, message: "values file 'values/prod.yaml' does not exist in the source"},
		{name: "values file not a map", chart: "good", mutate: withValues("values/list.yaml"), reason: sourcev1.ChartPackageFailedReason, message: "values file 'values/list.yaml' is not a YAML map"},
		{name: "values file is a directory", chart: "good", mutate: withValues("values"), reason: sourcev1.ChartPackageFailedReason, message: "values file 'values' cannot be read"},
		{name: "dependency without repository object", chart: "orphan", reason: sourcev1.ChartPackageFailedReason, message: "no HelmRepository in namespace"},
		{name: "dependency leaving the source", chart: "escape", reason: sourcev1.ChartPackageFailedReason, message: "dependency 'etc': 'file://../../../../../../etc' leaves the source"},
		{name: "verification", chart: "good", mutate: func(o *sourcev1.HelmChart) {
			o.Spec.SourceRef = sourcev1.HelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "oci"}
			o.Spec.Verify = &sourcev1.OCIRepositoryVerification{Provider: sourcev1.CosignVerificationProvider}
		}, reason: sourcev1.VerificationFailedReason, message: "keyless cosign verification is not supported in this build", stalled: true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hc := createHelmChart(t, ns, fmt.Sprintf("case-%d", i), sourcev1.GitRepositoryKind, "src", tc.chart, tc.mutate)
			waitFailure(t, hc, tc.reason, tc.message, tc.stalled)
			if hc.Status.Artifact != nil {
				t.Errorf("an artifact was stored: %+v", hc.Status.Artifact)
			}
		})
	}
}

func withValues(files ...string) func(*sourcev1.HelmChart) {
	return func(o *sourcev1.HelmChart) { o.Spec.ValuesFiles = files }
}

// TestHelmChartSchemaRejectsEscapingPaths: the API server refuses chart names and values file
// paths that leave the source, before the controller sees them.
func TestHelmChartSchemaRejectsEscapingPaths(t *testing.T) {
	ns := env.Namespace(t)
	cases := []struct {
		name   string
		mutate func(*sourcev1.HelmChart)
		want   string
	}{
		{"chart ../x", func(o *sourcev1.HelmChart) { o.Spec.Chart = "../x" }, "spec.chart must be a relative path without '..' segments"},
		{"chart with / from a HelmRepository", func(o *sourcev1.HelmChart) { o.Spec.Chart = "a/b" }, "spec.chart must be a chart name"},
		{"values file ../x", func(o *sourcev1.HelmChart) { o.Spec.ValuesFiles = []string{"values.yaml", "../../x.yaml"} }, "spec.valuesFiles paths must be relative"},
		{"absolute values file", func(o *sourcev1.HelmChart) { o.Spec.ValuesFile = "/etc/passwd" }, "spec.valuesFile must be relative"},
	}
	for _, tc := range cases {
		obj := &sourcev1.HelmChart{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "x"},
			Spec: sourcev1.HelmChartSpec{Chart: "app", Interval: metav1.Duration{Duration: time.Minute},
				SourceRef: sourcev1.HelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "r"}},
		}
		tc.mutate(obj)
		err := env.Client.Create(context.Background(), obj)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a rejection saying %q", tc.name, err, tc.want)
		}
	}
}

// TestValidateHelmChartSpec: the controller's own check, for objects that never went through
// the schema (a stale CRD, a direct etcd write).
func TestValidateHelmChartSpec(t *testing.T) {
	cases := []struct {
		kind, chart string
		values      []string
		want        string
	}{
		{sourcev1.HelmRepositoryKind, "app", nil, ""},
		{sourcev1.HelmRepositoryKind, "../x", nil, "spec.chart: chart name '../x' must not contain '/'"},
		{sourcev1.HelmRepositoryKind, "..", nil, "spec.chart: chart name '..' is not allowed"},
		{sourcev1.GitRepositoryKind, "charts/app", []string{"charts/app/values.yaml", "./env/prod.yaml"}, ""},
		{sourcev1.GitRepositoryKind, "charts/../../x", nil, "spec.chart: path must not have '..' segments"},
		{sourcev1.GitRepositoryKind, "/abs", nil, "spec.chart: path must be relative"},
		{sourcev1.GitRepositoryKind, "app", []string{"charts/../../../etc/passwd"}, "spec.valuesFiles: 'charts/../../../etc/passwd': path must not have '..' segments"},
		{sourcev1.GitRepositoryKind, "app", []string{`..\..\x`}, "backslash"},
	}
	for _, tc := range cases {
		obj := &sourcev1.HelmChart{Spec: sourcev1.HelmChartSpec{Chart: tc.chart, ValuesFiles: tc.values,
			SourceRef: sourcev1.HelmChartSourceReference{Kind: tc.kind}}}
		err := validateHelmChartSpec(obj)
		if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || !strings.Contains(got, tc.want))) {
			t.Errorf("%s %q %v: %v, want %q", tc.kind, tc.chart, tc.values, err, tc.want)
		}
	}
}
