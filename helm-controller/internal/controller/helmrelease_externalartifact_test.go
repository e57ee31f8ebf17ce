package controller

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

// publishExternal packages c and publishes it as the artifact of ExternalArtifact ns/name, as
// an ArtifactGenerator does (revision latest@<digest>), Ready for its generation.
func publishExternal(t testing.TB, ns, name string, c testChart) *meta.Artifact {
	t.Helper()
	ctx := context.Background()
	ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ea), ea); err != nil {
		if err := env.Client.Create(ctx, ea); err != nil {
			t.Fatal(err)
		}
	}
	a := artifacts.store(t, "/externalartifact/"+ns+"/"+name, "", packageChart(t, c))
	a.Revision = "latest@" + a.Digest
	ea.Status.Artifact = a
	markSourceReady(t, ea, &ea.Status.ObservedGeneration, &ea.Status.Conditions, "stored artifact for revision "+a.Revision)
	return a
}

// TestChartRefExternalArtifact: spec.chartRef.kind ExternalArtifact installs the generated
// chart, and a new artifact of the same chart version (e.g. values merged in by the generator)
// upgrades at once: the revision carries the digest, and the ExternalArtifact is watched.
func TestChartRefExternalArtifact(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	a := publishExternal(t, ns, "podinfo", testChart{})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.ChartRef = &helmv1.CrossNamespaceSourceReference{Kind: sourcev1.ExternalArtifactKind, Name: "podinfo"}
	})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0+"+a.Digest[7:19])

	b := publishExternal(t, ns, "podinfo", testChart{files: map[string]string{"values.yaml": "fromChart: merged\n"}})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0+"+b.Digest[7:19])
	waitRendered(t, ns, "app", "fromChart", `"merged"`)
}
