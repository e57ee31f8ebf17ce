package controller

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// TestPostRenderers: a kustomize patch, an image override and spec.commonMetadata reach the
// cluster, Helm records the post-rendered manifest (so drift detection finds nothing), and a
// changed post-renderer is a new desired state that upgrades.
func TestPostRenderers(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{files: map[string]string{"templates/deployment.yaml": driftDeployment}})
	kustomize := func(replicas string) []helmv1.PostRenderer {
		return []helmv1.PostRenderer{{Kustomize: &helmv1.Kustomize{
			Patches: []meta.Patch{{
				Patch:  `[{"op": "replace", "path": "/spec/replicas", "value": ` + replicas + `}]`,
				Target: &meta.Selector{Kind: "Deployment", Name: "app-web"},
			}},
			Images: []meta.Image{{Name: "nginx", NewName: "registry.example.com/mirror/nginx", NewTag: "1.28"}},
		}}}
	}
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.Install = &helmv1.Install{DisableWait: true}
		hr.Spec.Upgrade = &helmv1.Upgrade{DisableWait: true}
		hr.Spec.PostRenderers = kustomize("3")
		hr.Spec.CommonMetadata = &meta.CommonMetadata{Labels: map[string]string{"team": "blue"}, Annotations: map[string]string{"example.com/owner": "ops"}}
	})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	var d appsv1.Deployment
	deployment := func() (int32, string) {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app-web"}, &d); err != nil {
			t.Fatal(err)
		}
		return *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image
	}
	if replicas, image := deployment(); replicas != 3 || image != "registry.example.com/mirror/nginx:1.28" {
		t.Fatalf("replicas %d, image %s: the post-renderer did not reach the cluster", replicas, image)
	}
	if d.Labels["team"] != "blue" || d.Annotations["example.com/owner"] != "ops" || len(d.Spec.Selector.MatchLabels) != 1 {
		t.Fatalf("commonMetadata: labels %v, annotations %v, selector %v", d.Labels, d.Annotations, d.Spec.Selector.MatchLabels)
	}
	if hr.Status.ObservedPostRenderersDigest == "" {
		t.Fatal("status.observedPostRenderersDigest is empty")
	}
	requestReconcile(t, hr)
	if ev := driftEvents(t, ns); len(ev) != 0 {
		t.Fatalf("post-rendered objects reported as drift: %v", ev)
	}

	digest := hr.Status.ObservedPostRenderersDigest
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.PostRenderers = kustomize("4") })
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	testenv.Eventually(t, timeout, func() error {
		if replicas, _ := deployment(); replicas != 4 {
			return errorf("replicas %d, want 4", replicas)
		}
		return nil
	})
	if hr.Status.ObservedPostRenderersDigest == digest {
		t.Fatal("the post-renderers digest did not change")
	}

	// A patch that does not apply fails the upgrade, naming the post-renderer.
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) {
		hr.Spec.PostRenderers = []helmv1.PostRenderer{{Kustomize: &helmv1.Kustomize{Patches: []meta.Patch{{
			Patch: `[{"op": "replace", "path": "/spec/missing/x", "value": 1}]`, Target: &meta.Selector{Kind: "Deployment"},
		}}}}}
	})
	waitNotReady(t, hr, helmv1.UpgradeFailedReason, "kustomize post-renderer", true)
}
