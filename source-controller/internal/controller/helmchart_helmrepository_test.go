package controller

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart/loader"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/helmtest"
	"weir.dev/source-controller/internal/ocitest"
)

// createHelmChart creates a HelmChart of chart from the source kind/name, changed by mutate.
func createHelmChart(t *testing.T, ns, name, kind, source, chartName string, mutate func(*sourcev1.HelmChart)) *sourcev1.HelmChart {
	t.Helper()
	obj := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.HelmChartSpec{
			Chart:     chartName,
			SourceRef: sourcev1.HelmChartSourceReference{Kind: kind, Name: source},
			Interval:  metav1.Duration{Duration: 10 * time.Minute},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// loadChartArtifact downloads a HelmChart's artifact and loads it with Helm's own loader.
func loadChartArtifact(t *testing.T, a *meta.Artifact) (data []byte, name, version string, values map[string]any, deps []string) {
	t.Helper()
	data = fetchRaw(t, a)
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("helm cannot load the artifact: %v", err)
	}
	for _, d := range ch.Dependencies() {
		deps = append(deps, d.Name()+"@"+d.Metadata.Version)
	}
	slices.Sort(deps) // Helm loads subcharts in map order
	return data, ch.Name(), ch.Metadata.Version, ch.Values, deps
}

// TestHelmChartFromHelmRepository: the highest version in range is pulled as published; a new
// version in range makes a new artifact at once (through the HelmRepository's new index), one
// outside the range does not.
func TestHelmChartFromHelmRepository(t *testing.T) {
	ns := env.Namespace(t)
	repo := helmtest.NewRepo(t, helmtest.RepoOptions{})
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		publish(t, repo, helmtest.Chart{Name: "app", Version: v})
	}
	hr := createHelmRepository(t, ns, "charts", repo.URL, nil)
	waitArtifact(t, hr, func(string) error { return nil })
	hc := createHelmChart(t, ns, "app", sourcev1.HelmRepositoryKind, "charts", "app", func(o *sourcev1.HelmChart) { o.Spec.Version = "1.x" })
	a := waitArtifact(t, hc, revisionIs("1.1.0"))
	published, err := os.ReadFile(filepath.Join(repo.Dir, "app-1.1.0.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fetchRaw(t, a); !bytes.Equal(got, published) {
		t.Error("without values files, the artifact must be the published archive, byte for byte")
	}
	if hc.Status.ObservedChartName != "app" || hc.Status.ObservedSourceArtifactRevision != hr.Status.Artifact.Revision {
		t.Errorf("observed chart %q, source revision %q; want app, %s", hc.Status.ObservedChartName, hc.Status.ObservedSourceArtifactRevision, hr.Status.Artifact.Revision)
	}
	if err := testenv.CheckCondition(hc, meta.ReadyCondition, metav1.ConditionTrue, sourcev1.ChartPullSucceededReason, "pulled 'app' chart with version '1.1.0'"); err != nil {
		t.Error(err)
	}

	// In range: the HelmRepository's new index triggers the chart, without a request to it.
	publish(t, repo, helmtest.Chart{Name: "app", Version: "1.2.0"})
	requestReconcileOf(t, hr)
	waitArtifact(t, hc, revisionIs("1.2.0"))
	current := hc.Status.Artifact.DeepCopy()

	// Out of range: the index changes, the chart does not.
	publish(t, repo, helmtest.Chart{Name: "app", Version: "3.0.0"})
	oldIndex := hr.Status.Artifact.Revision
	requestReconcileOf(t, hr)
	waitArtifact(t, hr, func(rev string) error {
		if rev == oldIndex {
			return fmt.Errorf("index unchanged")
		}
		return nil
	})
	requestReconcileOf(t, hc)
	if hc.Status.Artifact.Revision != "1.2.0" || hc.Status.Artifact.Digest != current.Digest || !hc.Status.Artifact.LastUpdateTime.Equal(&current.LastUpdateTime) {
		t.Fatalf("a version outside the range changed the artifact: %+v", hc.Status.Artifact)
	}

	// Deleting the chart removes its artifacts, then the object.
	if err := env.Client.Delete(context.Background(), hc); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(hc), hc); !apierrors.IsNotFound(err) {
			return fmt.Errorf("the HelmChart still exists (%v)", err)
		}
		if _, err := os.Stat(filepath.Join(testStorage.Root(), filepath.Dir(current.Path))); !os.IsNotExist(err) {
			return fmt.Errorf("its storage directory is still there (%v)", err)
		}
		return nil
	})
}

// TestHelmChartValuesFiles: values files from inside the chart are merged in order into the
// packaged chart's values.yaml; a missing one fails unless ignoreMissingValuesFiles.
func TestHelmChartValuesFiles(t *testing.T) {
	ns := env.Namespace(t)
	repo := helmtest.NewRepo(t, helmtest.RepoOptions{})
	publish(t, repo, helmtest.Chart{Name: "app", Version: "1.0.0", Files: map[string]string{
		"values-prod.yaml": "replicaCount: 3\nimage:\n  tag: \"1.27\"\n",
	}})
	createHelmRepository(t, ns, "charts", repo.URL, nil)
	hc := createHelmChart(t, ns, "app", sourcev1.HelmRepositoryKind, "charts", "app", func(o *sourcev1.HelmChart) {
		o.Spec.ValuesFiles = []string{"values.yaml", "values-prod.yaml", "values-missing.yaml"}
		o.Spec.IgnoreMissingValuesFiles = true
	})
	a := waitArtifact(t, hc, revisionIs("1.0.0"))
	_, _, _, values, _ := loadChartArtifact(t, a)
	if fmt.Sprint(values) != "map[image:map[repository:nginx tag:1.27] replicaCount:3]" {
		t.Errorf("merged values %v", values)
	}
	if fmt.Sprint(hc.Status.ObservedValuesFiles) != "[values.yaml values-prod.yaml]" {
		t.Errorf("observedValuesFiles %v: only the files found", hc.Status.ObservedValuesFiles)
	}
	strict := createHelmChart(t, ns, "strict", sourcev1.HelmRepositoryKind, "charts", "app", func(o *sourcev1.HelmChart) {
		o.Spec.ValuesFiles = []string{"values-missing.yaml"}
	})
	waitFailure(t, strict, sourcev1.ChartPackageFailedReason, "values file 'values-missing.yaml' does not exist in chart 'app'", false)
}

// TestHelmChartPassCredentials: chart URLs on another host get the repository's credentials
// only with passCredentials. Each case has its own chart, so that requests are told apart.
func TestHelmChartPassCredentials(t *testing.T) {
	ns := env.Namespace(t)
	other := helmtest.NewRepo(t, helmtest.RepoOptions{})
	repo := helmtest.NewRepo(t, helmtest.RepoOptions{User: "helm", Password: "Pass-Cred-6Yu"})
	repo.ChartBaseURL = other.URL + "/"
	createSecret(t, ns, "creds", map[string][]byte{"username": []byte("helm"), "password": []byte("Pass-Cred-6Yu")})
	for _, pass := range []bool{false, true} {
		name := fmt.Sprintf("pass-%v", pass)
		publish(t, repo, helmtest.Chart{Name: name, Version: "1.0.0"})
		file := name + "-1.0.0.tgz"
		if err := os.WriteFile(filepath.Join(other.Dir, file), readFile(t, filepath.Join(repo.Dir, file)), 0o644); err != nil {
			t.Fatal(err)
		}
		createHelmRepository(t, ns, name, repo.URL, func(o *sourcev1.HelmRepository) {
			o.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
			o.Spec.PassCredentials = pass
		})
		hc := createHelmChart(t, ns, name, sourcev1.HelmRepositoryKind, name, name, nil)
		waitArtifact(t, hc, revisionIs("1.0.0"))
		reqs := other.RequestsTo("/" + file)
		if len(reqs) == 0 {
			t.Fatal("the chart was not downloaded from the other host")
		}
		for _, r := range reqs {
			if (r.Authorization != "") != pass {
				t.Errorf("passCredentials %v: the other host got Authorization %q", pass, r.Authorization)
			}
		}
		if len(repo.RequestsTo("/"+file)) != 0 {
			t.Errorf("the chart was fetched from the index's host, not from its URL")
		}
		assertNoLeak(t, hc, "Pass-Cred-6Yu")
	}
}

// TestHelmChartFromOCIHelmRepository: the highest tag in range is pulled from a registry with
// credentials, through a HelmRepository of type oci.
func TestHelmChartFromOCIHelmRepository(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{User: "charts", Password: "Oci-Chart-3Vb"})
	var archives = map[string][]byte{}
	for _, v := range []string{"1.0.0", "1.5.0+build.7", "2.0.0"} {
		dir := helmtest.NewChart(t, t.TempDir(), helmtest.Chart{Name: "app", Version: v})
		data, err := os.ReadFile(helmtest.Package(t, dir, t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		archives[v] = data
		reg.PushChart(t, "charts", "app", v, data)
	}
	createSecret(t, ns, "creds", map[string][]byte{"username": []byte("charts"), "password": []byte("Oci-Chart-3Vb")})
	createHelmRepository(t, ns, "oci", reg.URL("charts"), func(o *sourcev1.HelmRepository) {
		o.Spec.Type, o.Spec.Insecure = sourcev1.HelmRepositoryTypeOCI, true
		o.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
	})
	hc := createHelmChart(t, ns, "app", sourcev1.HelmRepositoryKind, "oci", "app", func(o *sourcev1.HelmChart) { o.Spec.Version = "<2" })
	a := waitArtifact(t, hc, revisionIs("1.5.0+build.7"))
	if !bytes.Equal(fetchRaw(t, a), archives["1.5.0+build.7"]) {
		t.Error("the artifact is not the pushed chart")
	}
	if hc.Status.ObservedSourceArtifactRevision != "" {
		t.Errorf("a HelmRepository of type oci has no artifact revision, got %q", hc.Status.ObservedSourceArtifactRevision)
	}
	assertNoLeak(t, hc, "Oci-Chart-3Vb")
}
