package controller

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
)

// crdVersionsFile is a CRD of kind Gizmo in group serving versions, the last one stored.
func crdVersionsFile(group string, versions ...string) string {
	s := fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.%[1]s
spec:
  group: %[1]s
  scope: Namespaced
  names: {kind: Gizmo, plural: gizmos, singular: gizmo, listKind: GizmoList}
  versions:
`, group)
	for i, v := range versions {
		s += fmt.Sprintf("    - name: %s\n      served: true\n      storage: %t\n      schema:\n        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n",
			v, i == len(versions)-1)
	}
	return s
}

// TestCRDsNonCRDRefused: an object under crds/ that is not a CRD stalls the install, naming the
// file and the object; nothing of crds/ is applied, not even the CRD before it, and nothing is
// installed.
func TestCRDsNonCRDRefused(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := ns + ".example.com"
	publishChart(t, ns, "chart", testChart{files: map[string]string{
		"crds/widgets.yaml": crdFile(group, "Widget", "widgets", "one") +
			"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: planted\n  namespace: " + ns + "\nstringData:\n  k: v\n",
	}})
	hr := createHelmRelease(t, ns, "app", nil)
	waitNotReady(t, hr, helmv1.CRDsRefusedReason, `demo/crds/widgets.yaml holds Secret "planted", not a CustomResourceDefinition`, true)
	t.Logf("message: %s", conditionMessage(hr, meta.ReadyCondition))
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "planted"}, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("the Secret under crds/ was applied (get: %v)", err)
	}
	if d := crdDescription(t, "widgets."+group); d != "" {
		t.Fatal("the CRD beside a refused object was applied")
	}
	wantRevisions(t, ns, "app")

	// A fixed chart installs; an upgrade that applies crds/ refuses a ClusterRole there.
	publishChart(t, ns, "chart", testChart{version: "1.0.1", files: map[string]string{"crds/widgets.yaml": crdFile(group, "Widget", "widgets", "one")}})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.1")
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Upgrade = &helmv1.Upgrade{CRDs: helmv1.CRDsCreate} })
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.1")
	publishChart(t, ns, "chart", testChart{version: "1.1.0", files: map[string]string{
		"crds/widgets.yaml": crdFile(group, "Widget", "widgets", "one"),
		"crds/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + ns + "-all\n" +
			"rules:\n  - apiGroups: ['*']\n    resources: ['*']\n    verbs: ['*']\n",
	}})
	waitNotReady(t, hr, helmv1.CRDsRefusedReason, `chart demo@1.1.0: chart CRDs refused: demo/crds/role.yaml holds ClusterRole "`+ns+`-all"`, true)
	err = env.Client.Get(context.Background(), client.ObjectKey{Name: ns + "-all"}, &rbacv1.ClusterRole{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("the ClusterRole under crds/ was applied (get: %v)", err)
	}
	wantRevisions(t, ns, "app", "1:superseded", "2:deployed")
}

// TestCRDsReplaceDropsStoredVersion: CreateReplace refuses to replace a CRD with one that no
// longer lists a version in its status.storedVersions, naming the CRD and the version, before
// any CRD is replaced; the release stays as it was.
func TestCRDsReplaceDropsStoredVersion(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := ns + ".example.com"
	publishChart(t, ns, "chart", testChart{version: "1.0.0", files: map[string]string{
		"crds/a-widgets.yaml": crdFile(group, "Widget", "widgets", "one"),
		"crds/b-gizmos.yaml":  crdVersionsFile(group, "v1"),
	}})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.Upgrade = &helmv1.Upgrade{CRDs: helmv1.CRDsCreateReplace}
	})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	publishChart(t, ns, "chart", testChart{version: "1.1.0", files: map[string]string{
		"crds/a-widgets.yaml": crdFile(group, "Widget", "widgets", "two"),
		"crds/b-gizmos.yaml":  crdVersionsFile(group, "v2"),
	}})
	waitNotReady(t, hr, helmv1.CRDsRefusedReason, "replacing CRD gizmos."+group+" with demo/crds/b-gizmos.yaml would drop version v1", true)
	t.Logf("message: %s", conditionMessage(hr, meta.ReadyCondition))
	if d := crdDescription(t, "widgets."+group); d != "one" {
		t.Fatalf("a CRD was replaced before the refusal: description %q", d)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: "gizmos." + group}, &crd); err != nil {
		t.Fatal(err)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != "v1" {
		t.Fatalf("CRD versions %+v", crd.Spec.Versions)
	}
	wantRevisions(t, ns, "app", "1:deployed")

	// Keeping the stored version (serving both) replaces.
	publishChart(t, ns, "chart", testChart{version: "1.2.0", files: map[string]string{
		"crds/a-widgets.yaml": crdFile(group, "Widget", "widgets", "three"),
		"crds/b-gizmos.yaml":  crdVersionsFile(group, "v1", "v2"),
	}})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.2.0")
	if d := crdDescription(t, "widgets."+group); d != "three" {
		t.Fatalf("CRD not replaced: description %q", d)
	}
}
