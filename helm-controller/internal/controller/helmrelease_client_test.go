package controller

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
)

// TestNonPersistentClient: with spec.persistentClient false, a chart whose templates create a
// CRD and whose post-install hook creates an object of that CRD installs: the hook's client
// discovers the API afresh and knows the new kind. (A shared client's discovery, filled before
// the CRD existed, does not: that is what the field is for.)
func TestNonPersistentClient(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := ns + ".example.com"
	hook := "apiVersion: " + group + "/v1\nkind: Gadget\nmetadata:\n  name: hooked\n  annotations:\n    helm.sh/hook: post-install\n"
	publishChart(t, ns, "chart", testChart{files: map[string]string{
		"templates/crd.yaml":  crdFile(group, "Gadget", "gadgets", "one"),
		"templates/hook.yaml": hook,
	}})
	persistent := false
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.PersistentClient = &persistent })
	t.Cleanup(func() {
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
		crd.SetName("gadgets." + group)
		_ = env.Client.Delete(context.Background(), crd)
	})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	gadget := &unstructured.Unstructured{}
	gadget.SetGroupVersionKind(schema.GroupVersionKind{Group: group, Version: "v1", Kind: "Gadget"})
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hooked"}, gadget); err != nil {
		t.Fatalf("the post-install hook's Gadget: %v", err)
	}
}
