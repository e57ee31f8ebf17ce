package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

// TestDependsOn: a HelmRelease waits for a HelmRelease and a Kustomization it depends on,
// naming the first that is not ready, and installs once both are Ready.
func TestDependsOn(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	ctx := context.Background()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "infra"},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
			Interval:  metav1.Duration{Duration: time.Hour},
		},
	}
	if err := env.Client.Create(ctx, ks); err != nil {
		t.Fatal(err)
	}
	db := createHelmRelease(t, ns, "db", func(hr *helmv1.HelmRelease) { hr.Spec.ChartRef.Name = "dbchart" })
	app := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.DependsOn = []helmv1.DependencyReference{{Name: "db"}, {Kind: "Kustomization", Name: "infra"}}
	})
	publishChart(t, ns, "chart", testChart{})
	waitNotReady(t, app, meta.DependencyNotReadyReason, "dependency HelmRelease '"+ns+"/db' is not ready (Ready=False since 20", false)
	waitNotReady(t, app, meta.DependencyNotReadyReason, "Z): DependencyNotReady: HelmChart '"+ns+"/dbchart' not found", false)

	publishChart(t, ns, "dbchart", testChart{})
	waitReleased(t, db, helmv1.InstallSucceededReason, "1.0.0")
	waitNotReady(t, app, meta.DependencyNotReadyReason, "dependency Kustomization '"+ns+"/infra' is not ready: it has no Ready condition yet", false)
	wantRevisions(t, ns, "app")

	// kustomize-controller reports the Kustomization Ready.
	ks.Status.ObservedGeneration = ks.Generation
	ks.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		ObservedGeneration: ks.Generation, LastTransitionTime: metav1.Now()}}
	if err := env.Client.Status().Update(ctx, ks); err != nil {
		t.Fatal(err)
	}
	waitReleased(t, app, helmv1.InstallSucceededReason, "1.0.0")
}

// TestDependencyCycle: HelmReleases that depend on each other stall, naming the cycle.
func TestDependencyCycle(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	a := createHelmRelease(t, ns, "a", func(hr *helmv1.HelmRelease) {
		hr.Spec.DependsOn = []helmv1.DependencyReference{{Name: "b"}}
	})
	createHelmRelease(t, ns, "b", func(hr *helmv1.HelmRelease) {
		hr.Spec.DependsOn = []helmv1.DependencyReference{{Name: "a"}}
	})
	waitNotReady(t, a, meta.DependencyNotReadyReason,
		"spec.dependsOn: dependency cycle HelmRelease/"+ns+"/a -> HelmRelease/"+ns+"/b -> HelmRelease/"+ns+"/a", true)
	wantRevisions(t, ns, "a")
}

// TestDependsOnReadyExpr: a readyExpr decides in place of Ready, seeing the dependency as dep
// and the HelmRelease as self: false waits naming the expression, true installs although the
// Kustomization is not Ready, and one that does not compile stalls naming it.
func TestDependsOnReadyExpr(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	ctx := context.Background()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "infra", Labels: map[string]string{"app/version": "v1"}},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
			Interval:  metav1.Duration{Duration: time.Hour},
		},
	}
	if err := env.Client.Create(ctx, ks); err != nil {
		t.Fatal(err)
	}
	publishChart(t, ns, "chart", testChart{})
	expr := "dep.metadata.labels['app/version'] == self.metadata.labels['app/version']"
	app := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Labels = map[string]string{"app/version": "v2"}
		hr.Spec.DependsOn = []helmv1.DependencyReference{{Kind: "Kustomization", Name: "infra", ReadyExpr: expr}}
	})
	waitNotReady(t, app, meta.DependencyNotReadyReason, "dependency Kustomization '"+ns+"/infra' is not ready: readyExpr '"+expr+"' is false", false)
	wantRevisions(t, ns, "app")

	ks.Labels["app/version"] = "v2" // the Kustomization has no Ready condition: only the expression decides
	if err := env.Client.Update(ctx, ks); err != nil {
		t.Fatal(err)
	}
	waitReleased(t, app, helmv1.InstallSucceededReason, "1.0.0")

	bad := createHelmRelease(t, ns, "bad", func(hr *helmv1.HelmRelease) {
		hr.Spec.DependsOn = []helmv1.DependencyReference{{Kind: "Kustomization", Name: "infra", ReadyExpr: "dep.metadata.name == "}}
	})
	waitNotReady(t, bad, meta.InvalidSpecReason, "spec.dependsOn[0].readyExpr of Kustomization '"+ns+"/infra' is invalid", true)
	wantRevisions(t, ns, "bad")
}
