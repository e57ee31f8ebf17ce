package controller

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
	"weir.dev/source-controller/internal/helmtest"
	"weir.dev/source-controller/internal/ocitest"
)

// chartFiles scaffolds a chart with helm and returns its files under prefix, for a Git commit
// or an OCI layer.
func chartFiles(t *testing.T, prefix string, c helmtest.Chart) map[string]string {
	t.Helper()
	dir := helmtest.NewChart(t, t.TempDir(), c)
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[prefix+filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestHelmChartFromGitRepository: a chart in a Git repository with a local dependency and one
// from a HelmRepository, values files from elsewhere in the repository merged in order, and the
// two reconcile strategies.
func TestHelmChartFromGitRepository(t *testing.T) {
	ns := env.Namespace(t)
	helmRepo := helmtest.NewRepo(t, helmtest.RepoOptions{User: "helm", Password: "Dep-Repo-2Qs"})
	publish(t, helmRepo, helmtest.Chart{Name: "redis", Version: "17.1.0"})
	publish(t, helmRepo, helmtest.Chart{Name: "redis", Version: "17.2.0"})
	publish(t, helmRepo, helmtest.Chart{Name: "redis", Version: "18.0.0"})
	createSecret(t, ns, "creds", map[string][]byte{"username": []byte("helm"), "password": []byte("Dep-Repo-2Qs")})
	createHelmRepository(t, ns, "bitnami", helmRepo.URL+"/", func(o *sourcev1.HelmRepository) {
		o.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
	})

	srv := gittest.NewServer(t, gittest.Options{})
	files := merge(
		chartFiles(t, "charts/app/", helmtest.Chart{Name: "app", Version: "0.1.0", Dependencies: []helmtest.Dependency{
			{Name: "lib", Version: "~0.3", Repository: "file://../lib"},
			{Name: "redis", Version: "17.x", Repository: helmRepo.URL},
		}}),
		chartFiles(t, "charts/lib/", helmtest.Chart{Name: "lib", Version: "0.3.1"}),
		map[string]string{"env/prod.yaml": "replicaCount: 5\nredis:\n  enabled: true\n"},
	)
	repo := srv.NewRepo(t, "org/charts.git", "main", files)
	gr := createGitRepository(t, ns, "charts", srv.URL("org/charts.git"), nil)
	waitRevision(t, gr, "main@sha1:"+srv.Head(t, "org/charts.git"))

	byVersion := createHelmChart(t, ns, "by-version", sourcev1.GitRepositoryKind, "charts", "charts/app", func(o *sourcev1.HelmChart) {
		o.Spec.ValuesFiles = []string{"charts/app/values.yaml", "env/prod.yaml"}
	})
	a := waitArtifact(t, byVersion, revisionIs("0.1.0"))
	_, name, version, values, deps := loadChartArtifact(t, a)
	if name != "app" || version != "0.1.0" || fmt.Sprint(deps) != "[lib@0.3.1 redis@17.2.0]" {
		t.Fatalf("artifact holds %s %s with dependencies %v", name, version, deps)
	}
	if fmt.Sprint(values) != "map[image:map[repository:nginx tag:stable] redis:map[enabled:true] replicaCount:5]" {
		t.Errorf("merged values %v", values)
	}
	if byVersion.Status.ObservedSourceArtifactRevision != gr.Status.Artifact.Revision ||
		fmt.Sprint(byVersion.Status.ObservedValuesFiles) != "[charts/app/values.yaml env/prod.yaml]" {
		t.Errorf("observed source revision %q, values files %v", byVersion.Status.ObservedSourceArtifactRevision, byVersion.Status.ObservedValuesFiles)
	}
	if err := testenv.CheckCondition(byVersion, "Ready", metav1.ConditionTrue, sourcev1.ChartPackageSucceededReason, "packaged 'app' chart with version '0.1.0'"); err != nil {
		t.Error(err)
	}
	assertNoLeak(t, byVersion, "Dep-Repo-2Qs")

	byRevision := createHelmChart(t, ns, "by-revision", sourcev1.GitRepositoryKind, "charts", "charts/app", func(o *sourcev1.HelmChart) {
		o.Spec.ReconcileStrategy = sourcev1.ReconcileStrategyRevision
	})
	head := srv.Head(t, "org/charts.git")
	waitArtifact(t, byRevision, revisionIs("0.1.0+"+head[:12]))

	// A new commit: Revision makes a new artifact, ChartVersion keeps the one it has.
	previous := byVersion.Status.Artifact.DeepCopy()
	repo.Commit(map[string]string{"README.md": "new"}, "docs", nil)
	repo.Push()
	head = srv.Head(t, "org/charts.git")
	requestReconcile(t, gr)
	waitRevision(t, gr, "main@sha1:"+head)
	waitArtifact(t, byRevision, revisionIs("0.1.0+"+head[:12]))
	requestReconcileOf(t, byVersion)
	if a := byVersion.Status.Artifact; a.Digest != previous.Digest || !a.LastUpdateTime.Equal(&previous.LastUpdateTime) {
		t.Errorf("ChartVersion rebuilt an unchanged chart version: %+v", a)
	}
}

// TestHelmChartFromOCIRepository: a chart directory inside an OCI artifact, with a dependency
// pulled from a registry through a HelmRepository of type oci.
func TestHelmChartFromOCIRepository(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	db, err := os.ReadFile(helmtest.Package(t, helmtest.NewChart(t, t.TempDir(), helmtest.Chart{Name: "db", Version: "1.4.0"}), t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	reg.PushChart(t, "charts", "db", "1.4.0", db)
	createHelmRepository(t, ns, "oci-charts", reg.URL("charts"), func(o *sourcev1.HelmRepository) {
		o.Spec.Type, o.Spec.Insecure = sourcev1.HelmRepositoryTypeOCI, true
	})
	files := chartFiles(t, "deploy/chart/", helmtest.Chart{Name: "web", Version: "2.3.4",
		Dependencies: []helmtest.Dependency{{Name: "db", Version: "1.x", Repository: reg.URL("charts")}}})
	d := reg.Push(t, "manifests", "v1", []ocitest.Layer{{MediaType: ocitest.FluxContentMediaType, Data: ocitest.TarGz(t, files)}}, nil)
	createOCIRepository(t, ns, "manifests", reg.URL("manifests"), func(o *sourcev1.OCIRepository) {
		o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
	})
	hc := createHelmChart(t, ns, "web", sourcev1.OCIRepositoryKind, "manifests", "deploy/chart", func(o *sourcev1.HelmChart) {
		o.Spec.ReconcileStrategy = sourcev1.ReconcileStrategyRevision
	})
	a := waitArtifact(t, hc, revisionIs("2.3.4+"+d.Encoded()[:12]))
	if _, name, version, _, deps := loadChartArtifact(t, a); name != "web" || version != "2.3.4+"+d.Encoded()[:12] || fmt.Sprint(deps) != "[db@1.4.0]" {
		t.Fatalf("artifact holds chart %s %s with dependencies %v", name, version, deps)
	}
	if hc.Status.ObservedSourceArtifactRevision != "v1@"+d.String() {
		t.Errorf("observed source revision %s", hc.Status.ObservedSourceArtifactRevision)
	}
}

// TestHelmChartWaitsForItsSource: a missing source, or one without an artifact yet, makes the
// chart wait with DependencyNotReady, and it builds as soon as the source is there.
func TestHelmChartWaitsForItsSource(t *testing.T) {
	ns := env.Namespace(t)
	hc := createHelmChart(t, ns, "app", sourcev1.HelmRepositoryKind, "later", "app", nil)
	testenv.Eventually(t, timeout, env.ObjectIn(hc, "Ready", metav1.ConditionFalse, "DependencyNotReady", "HelmRepository 'later' does not exist"))
	if strings.Contains(fmt.Sprint(hc.Status.Conditions), "Stalled") {
		t.Error("waiting for a source must not stall")
	}
	repo := helmtest.NewRepo(t, helmtest.RepoOptions{})
	publish(t, repo, helmtest.Chart{Name: "app", Version: "0.0.1"})
	createHelmRepository(t, ns, "later", repo.URL, nil)
	waitArtifact(t, hc, revisionIs("0.0.1"))
}
