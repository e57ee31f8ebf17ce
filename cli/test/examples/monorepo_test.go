package examples

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/local"
	"weir.dev/cli/test/examples/internal/harness"
	"weir.dev/pkg/testenv"
)

// podinfoRepository is the Helm repository the monorepo example installs podinfo from; the
// test serves a stand-in chart in its place.
const podinfoRepository = "https://stefanprodan.github.io/podinfo"

// TestMonorepo runs docs/examples/monorepo: the staging cluster's entry point applies the
// infrastructure and the apps; apps waits for infrastructure (dependsOn) until the Helm
// repository answers and infrastructure's wait sees it Ready, then installs podinfo with
// staging's values. Production's entry point builds the same Kustomizations with production's
// values, which the API server accepts.
func TestMonorepo(t *testing.T) {
	ctx := context.Background()
	c := env.Client
	charts := serveGatedChart(t)
	host := harness.StartGitHost(t, nil)
	repo := host.Publish(t, "monorepo", filepath.Join(harness.ExamplesDir(t), "monorepo"),
		map[string]string{podinfoRepository: charts.url})
	revision := "main@sha1:" + repo.Head(t)

	// kubectl apply -k clusters/staging
	harness.Apply(t, c, filepath.Join(repo.Dir, "clusters", "staging"))

	// The Helm repository does not answer yet: infrastructure applied its HelmRepository and
	// waits for it, so apps waits for infrastructure and applies nothing.
	helmRepo := &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Namespace: harness.WeirNamespace, Name: "podinfo"}}
	testenv.Eventually(t, 2*time.Minute, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(helmRepo), helmRepo); err != nil {
			return err
		}
		return testenv.CheckCondition(helmRepo, meta.ReadyCondition, metav1.ConditionFalse, "", "503")
	})
	infra := kustomization("infrastructure")
	apps := kustomization("apps")
	testenv.Eventually(t, 2*time.Minute, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(apps), apps); err != nil {
			return err
		}
		return testenv.CheckCondition(apps, meta.ReadyCondition, metav1.ConditionFalse, meta.DependencyNotReadyReason,
			"Kustomization '"+harness.WeirNamespace+"/infrastructure' is not ready")
	})
	if err := c.Get(ctx, client.ObjectKeyFromObject(infra), infra); err != nil {
		t.Fatal(err)
	}
	if harness.ReadyErr(infra) == nil {
		t.Fatalf("infrastructure is Ready while its HelmRepository cannot fetch its index")
	}
	if err := c.Get(ctx, client.ObjectKey{Name: "podinfo"}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
		t.Fatalf("apps applied its namespace before infrastructure was Ready (get: %v)", err)
	}

	// The Helm repository answers; `weir reconcile source helm podinfo` fetches it at once.
	charts.open()
	harness.RequestReconcile(t, c, helmRepo)
	harness.WaitReady(t, c, infra, 3*time.Minute, nil)
	harness.WaitReady(t, c, apps, 3*time.Minute, func() error {
		if apps.Status.LastAppliedRevision != revision {
			return fmt.Errorf("apps applied %q, not %q", apps.Status.LastAppliedRevision, revision)
		}
		return nil
	})
	// apps was applied after infrastructure became Ready (apps is Ready only once its
	// HelmRelease is: wait).
	infraReady := apimeta.FindStatusCondition(infra.Status.Conditions, meta.ReadyCondition).LastTransitionTime
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: "podinfo"}, ns); err != nil {
		t.Fatal(err)
	}
	if ns.CreationTimestamp.Before(&infraReady) {
		t.Errorf("apps created namespace podinfo at %s, before infrastructure was Ready at %s", ns.CreationTimestamp, infraReady)
	}
	// The entry point's own Kustomization took over what kubectl applied.
	harness.WaitReady(t, c, kustomization("monorepo"), time.Minute, nil)
	hr := &helmv1.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "podinfo", Name: "podinfo"}}
	harness.WaitReady(t, c, hr, time.Minute, nil)

	// The chart rendered staging's values over the base's.
	rendered := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "podinfo", Name: "podinfo"}, rendered); err != nil {
		t.Fatalf("the release's rendered ConfigMap: %v", err)
	}
	want := map[string]string{"replicaCount": "1", "uiMessage": "Hello from staging", "uiColor": "#34577c"}
	for k, v := range want {
		if rendered.Data[k] != v {
			t.Errorf("rendered %s = %q, want %q (staging's values); all: %v", k, rendered.Data[k], v, rendered.Data)
		}
	}

	// Production: the same three Kustomizations, pointing at apps/production, whose HelmRelease
	// has production's values; the API server accepts all of it (dry run: one cluster here).
	prodCluster := harness.Build(t, filepath.Join(repo.Dir, "clusters", "production"))
	if got := findObject(t, prodCluster, "Kustomization", "apps"); got["spec"].(map[string]any)["path"] != "./apps/production" {
		t.Errorf("production's apps Kustomization: path %v", got["spec"].(map[string]any)["path"])
	}
	prodApps := harness.Build(t, filepath.Join(repo.Dir, "apps", "production"))
	for _, u := range append(prodCluster, prodApps...) {
		err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner("kubectl"), client.ForceOwnership, client.DryRunAll)
		if err != nil {
			t.Errorf("production's %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
	prodValues := helmValues(t, findObject(t, prodApps, "HelmRelease", "podinfo"))
	stagingValues := helmValues(t, findObject(t, harness.Build(t, filepath.Join(repo.Dir, "apps", "staging")), "HelmRelease", "podinfo"))
	if prodValues == stagingValues {
		t.Errorf("production's values equal staging's: %s", prodValues)
	}
	if want := `{"replicaCount":3,"ui":{"color":"#34577c","message":"Hello from production"}}`; prodValues != want {
		t.Errorf("production's values %s, want %s", prodValues, want)
	}
}

func kustomization(name string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: harness.WeirNamespace, Name: name}}
}

// findObject returns the object of kind and name among objects.
func findObject(t *testing.T, objects []*unstructured.Unstructured, kind, name string) map[string]any {
	t.Helper()
	for _, u := range objects {
		if u.GetKind() == kind && u.GetName() == name {
			return u.Object
		}
	}
	t.Fatalf("no %s %s among %d objects", kind, name, len(objects))
	return nil
}

// helmValues returns a HelmRelease's spec.values as compact JSON, keys sorted.
func helmValues(t *testing.T, hr map[string]any) string {
	t.Helper()
	b, err := json.Marshal(hr["spec"].(map[string]any)["values"])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// gatedChart is a Helm repository holding the stand-in podinfo chart that answers 503 until
// open, as a repository that is not reachable yet.
type gatedChart struct {
	url    string
	opened atomic.Bool
}

func (g *gatedChart) open() { g.opened.Store(true) }

func serveGatedChart(t *testing.T) *gatedChart {
	t.Helper()
	files := map[string]string{}
	dir := filepath.Join("testdata", "podinfo-chart")
	for _, p := range []string{"Chart.yaml", "values.yaml", "templates/configmap.yaml", "templates/service.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		files[p] = string(b)
	}
	backend, stop, err := local.ServeChart("podinfo", "6.7.1", files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedChart{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.opened.Load() {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	g.url = srv
	return g
}
