package controller

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
)

// TestChartTemplate: spec.chart makes the controller create a HelmChart `<namespace>-<name>`
// in the source's namespace, labelled as its own, and release its artifact once
// source-controller (played by the test) has built it. A new version range updates the
// HelmChart, and the release waits for the artifact of that generation instead of releasing
// the old one. Deleting the HelmRelease deletes the HelmChart.
func TestChartTemplate(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	sources := env.Namespace(t)
	ctx := context.Background()
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.ChartRef = nil
		hr.Spec.Chart = &helmv1.HelmChartTemplate{
			ObjectMeta: &helmv1.HelmChartTemplateObjectMeta{Labels: map[string]string{"team": "blue"}},
			Spec: helmv1.HelmChartTemplateSpec{
				Chart: "demo", Version: "1.x",
				SourceRef:   helmv1.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "repo", Namespace: sources},
				ValuesFiles: []string{"values-prod.yaml"},
			},
		}
	})
	hc := &sourcev1.HelmChart{}
	key := client.ObjectKey{Namespace: sources, Name: ns + "-app"}
	testenv.Eventually(t, timeout, func() error { return env.Client.Get(ctx, key, hc) })
	if hc.Labels[helmv1.OwnerNameLabel] != "app" || hc.Labels[helmv1.OwnerNamespaceLabel] != ns || hc.Labels["team"] != "blue" ||
		hc.Spec.Chart != "demo" || hc.Spec.Version != "1.x" || hc.Spec.SourceRef.Kind != "HelmRepository" || hc.Spec.SourceRef.Name != "repo" ||
		hc.Spec.Interval.Duration != 10*time.Minute || hc.Spec.ReconcileStrategy != sourcev1.ReconcileStrategyChartVersion ||
		len(hc.Spec.ValuesFiles) != 1 {
		t.Fatalf("HelmChart made from the template: labels %v spec %+v", hc.Labels, hc.Spec)
	}
	waitNotReady(t, hr, meta.DependencyNotReadyReason, "HelmChart '"+sources+"/"+ns+"-app' is not ready: it has not been reconciled yet", false)
	testenv.Eventually(t, timeout, func() error { // conditions are patched before the rest of the status
		if err := env.Client.Get(ctx, objectKey(hr), hr); err != nil {
			return err
		}
		if hr.Status.HelmChart != sources+"/"+ns+"-app" {
			return errorf("status.helmChart %q", hr.Status.HelmChart)
		}
		return nil
	})

	setChartArtifact(t, hc, testChart{version: "1.2.0"})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.2.0")

	// A new range: the HelmChart changes; its old artifact is not released.
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Chart.Spec.Version = "2.x" })
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, key, hc); err != nil {
			return err
		}
		if hc.Spec.Version != "2.x" {
			return errorf("HelmChart version %q, want 2.x", hc.Spec.Version)
		}
		return nil
	})
	waitNotReady(t, hr, meta.DependencyNotReadyReason, "is not ready: generation 2 has not been reconciled yet", false)
	wantRevisions(t, ns, "app", "1:deployed")
	setChartArtifact(t, hc, testChart{version: "2.0.0"})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "2.0.0")
	wantRevisions(t, ns, "app", "1:superseded", "2:deployed")

	if err := env.Client.Delete(ctx, hr); err != nil {
		t.Fatal(err)
	}
	waitGone(t, hr)
	if err := env.Client.Get(ctx, key, hc); !apierrors.IsNotFound(err) {
		t.Fatalf("the HelmChart was not deleted with its HelmRelease: %v", err)
	}
	wantRevisions(t, ns, "app")
}

// TestChartTemplateNotOwned: a HelmChart of the template's name that the HelmRelease did not
// make is left alone and the HelmRelease stalls.
func TestChartTemplateNotOwned(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, ns+"-app", testChart{})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.ChartRef = nil
		hr.Spec.Chart = &helmv1.HelmChartTemplate{Spec: helmv1.HelmChartTemplateSpec{
			Chart: "other", SourceRef: helmv1.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "repo"},
		}}
	})
	waitNotReady(t, hr, meta.AccessDeniedReason, "HelmChart '"+ns+"/"+ns+"-app' exists and is not managed by this HelmRelease", true)
	hc := &sourcev1.HelmChart{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ns + "-app"}, hc); err != nil || hc.Spec.Chart != "demo" {
		t.Fatalf("the foreign HelmChart was changed: %v %+v", err, hc.Spec)
	}
	if err := env.Client.Delete(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	waitGone(t, hr)
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: ns + "-app"}, hc); err != nil {
		t.Fatalf("the foreign HelmChart was deleted: %v", err)
	}
}

// TestChartRefOCIRepository: a chart from an OCIRepository artifact; the revision carries the
// digest, and a new digest of the same version is a new desired state.
func TestChartRefOCIRepository(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	a := publishOCI(t, ns, "charts", "1.0.0", testChart{})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.ChartRef = &helmv1.CrossNamespaceSourceReference{Kind: "OCIRepository", Name: "charts"}
	})
	want := "1.0.0+" + a.Digest[7:19]
	waitReleased(t, hr, helmv1.InstallSucceededReason, want)
	if hr.Status.LastAttemptedRevisionDigest != a.Digest || hr.Status.History.Latest().OCIDigest != a.Digest {
		t.Fatalf("digest %q, history digest %q; want %q", hr.Status.LastAttemptedRevisionDigest, hr.Status.History.Latest().OCIDigest, a.Digest)
	}

	b := publishOCI(t, ns, "charts", "1.0.0", testChart{files: map[string]string{"values.yaml": "fromChart: rebuilt\n"}})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0+"+b.Digest[7:19])
	waitRendered(t, ns, "app", "fromChart", `"rebuilt"`)
	if h := hr.Status.History; len(h) != 2 || h[0].OCIDigest != b.Digest || h[1].OCIDigest != a.Digest {
		t.Fatalf("history %+v, want the two digests", h)
	}
}
