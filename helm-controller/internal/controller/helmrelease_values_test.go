package controller

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
)

// TestValuesFrom: values come from a ConfigMap and a Secret, in order, a Secret key is placed
// whole at a target path, an optional missing Secret is skipped, and spec.values wins. A
// change to the ConfigMap is released at the next reconcile.
func TestValuesFrom(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "base"},
		Data: map[string]string{"values.yaml": "replicas: 1\nimage: {repo: nginx, tag: '1.0'}\nowner: base\n"}}
	for _, o := range []client.Object{
		cm,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "prod"},
			StringData: map[string]string{"overrides": "replicas: 3\nimage: {tag: '2.0'}\n", "token": "abc,def=ghi"}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	publishChart(t, ns, "chart", testChart{})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.ValuesFrom = []helmv1.ValuesReference{
			{Kind: "ConfigMap", Name: "base"},
			{Kind: "Secret", Name: "prod", ValuesKey: "overrides"},
			{Kind: "Secret", Name: "prod", ValuesKey: "token", TargetPath: "auth.tokens[1]"},
			{Kind: "Secret", Name: "absent", Optional: true},
		}
		hr.Spec.Values = jsonValues(`{"owner": "inline"}`)
	})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	waitRendered(t, ns, "app", "replicas", "3")
	waitRendered(t, ns, "app", "image", `{"repo":"nginx","tag":"2.0"}`)
	waitRendered(t, ns, "app", "auth", `{"tokens":[null,"abc,def=ghi"]}`)
	waitRendered(t, ns, "app", "owner", `"inline"`)

	cm.Data["values.yaml"] = "replicas: 1\nimage: {repo: registry.local/nginx}\nowner: base\n"
	if err := env.Client.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, hr)
	waitRendered(t, ns, "app", "image", `{"repo":"registry.local/nginx","tag":"2.0"}`)
	// The objects are rendered before Helm records the upgrade as deployed: wait for its outcome.
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	wantRevisions(t, ns, "app", "1:superseded", "2:deployed")
}

// TestNamespaces: spec.targetNamespace holds the objects and names the release by default
// (`<targetNamespace>-<name>`), spec.storageNamespace holds Helm's records, and spec.maxHistory
// bounds them.
func TestNamespaces(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	target := env.Namespace(t)
	storage := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	two := 2
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.TargetNamespace = target
		hr.Spec.StorageNamespace = storage
		hr.Spec.MaxHistory = &two
		hr.Spec.Values = jsonValues(`{"n": 1}`)
	})
	release := target + "-app"
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	waitRendered(t, target, release, "n", "1")
	wantRevisions(t, storage, release, "1:deployed")
	wantRevisions(t, ns, release)
	if hr.Status.StorageNamespace != storage || hr.Status.History.Latest().Namespace != target || hr.Status.History.Latest().Name != release {
		t.Fatalf("status names storage %q and release %s/%s", hr.Status.StorageNamespace, hr.Status.History.Latest().Namespace, hr.Status.History.Latest().Name)
	}
	for _, n := range []string{"2", "3"} {
		updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"n": ` + n + `}`) })
		waitRendered(t, target, release, "n", n)
	}
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	wantRevisions(t, storage, release, "2:superseded", "3:deployed")
}

// TestReleaseMoves: when the spec names another release (here a new spec.releaseName), the
// release made before is uninstalled, not left behind, and the new one is installed.
func TestReleaseMoves(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.ReleaseName = "first" })
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	wantRevisions(t, ns, "first", "1:deployed")

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.ReleaseName = "second" })
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	wantRevisions(t, ns, "second", "1:deployed")
	wantRevisions(t, ns, "first")
	if renderedValues(t, ns, "first") != nil {
		t.Fatal("the objects of the release no longer named are still there")
	}
	if h := hr.Status.History; len(h) != 1 || h[0].Name != "second" {
		t.Fatalf("history %+v, want only release second", h)
	}
}
