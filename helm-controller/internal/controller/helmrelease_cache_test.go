package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// TestKustomizationCacheTrimmed: helm-controller keeps of a Kustomization only what a
// dependency check reads (no inventory, history or managedFields), and a readyExpr still sees
// the whole object: one about a field the cache drops installs the release once it holds.
func TestKustomizationCacheTrimmed(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	ctx := context.Background()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "infra"},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
			Interval:  metav1.Duration{Duration: time.Hour},
			Path:      "./apps/infra",
		},
		Status: kustomizev1.KustomizationStatus{
			LastAppliedRevision: "main@sha1:1", LastAttemptedRevision: "main@sha1:1",
			Conditions: []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
				Message: "applied revision main@sha1:1", LastTransitionTime: metav1.Now()}},
			Inventory: &meta.ResourceInventory{Entries: []meta.ResourceRef{{ID: ns + "_cm__ConfigMap", Version: "v1"}}},
			History: []kustomizev1.ReconcileSnapshot{{Digest: "sha256:1", FirstReconciled: metav1.Now(), LastReconciled: metav1.Now(),
				LastReconciledStatus: kustomizev1.ReconciliationSucceededReason, TotalReconciliations: 1}},
		},
	}
	env.CreateWithStatus(t, ks)

	testenv.Eventually(t, timeout, func() error {
		var cached kustomizev1.Kustomization
		if err := cachedClient.Get(ctx, client.ObjectKeyFromObject(ks), &cached); err != nil {
			return err
		}
		switch {
		case len(cached.Status.Conditions) != 1 || cached.Status.LastAppliedRevision != "main@sha1:1":
			return fmt.Errorf("the cached Kustomization lost its readiness: %+v", cached.Status)
		case cached.Status.Inventory != nil || cached.Status.History != nil || cached.ManagedFields != nil || cached.Spec.Path != "":
			return fmt.Errorf("the cached Kustomization was not trimmed: inventory %v, history %v, %d managedFields, path %q",
				cached.Status.Inventory, cached.Status.History, len(cached.ManagedFields), cached.Spec.Path)
		}
		return nil
	})

	publishChart(t, ns, "chart", testChart{})
	app := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.DependsOn = []helmv1.DependencyReference{{Kind: "Kustomization", Name: "infra", ReadyExpr: "dep.spec.path == './apps/infra'"}}
	})
	waitReleased(t, app, helmv1.InstallSucceededReason, "1.0.0")
}
