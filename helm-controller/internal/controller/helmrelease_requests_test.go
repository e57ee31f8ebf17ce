package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// requestWith sets the reconcile-request annotation and key to one new token, as
// `weir reconcile --force`/`--reset` would, and waits until the request is handled.
func requestWith(t *testing.T, hr *helmv1.HelmRelease, key string) string {
	t.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) {
		if hr.Annotations == nil {
			hr.Annotations = map[string]string{}
		}
		hr.Annotations[meta.ReconcileRequestAnnotation] = token
		hr.Annotations[key] = token
	})
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(hr), hr); err != nil {
			return err
		}
		if hr.Status.LastHandledReconcileAt != token {
			return errorf("lastHandledReconcileAt %q, want %q", hr.Status.LastHandledReconcileAt, token)
		}
		return nil
	})
	return token
}

// TestForceRequest: reconcile.weir.dev/forceAt upgrades an in-sync release once; a later
// plain reconcile request does not replay it.
func TestForceRequest(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	hr := createHelmRelease(t, ns, "app", nil)
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	token := requestWith(t, hr, helmv1.ForceRequestAnnotation)
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	wantRevisions(t, ns, "app", "1:superseded", "2:deployed")
	if hr.Status.LastHandledForceAt != token {
		t.Fatalf("lastHandledForceAt %q, want %q", hr.Status.LastHandledForceAt, token)
	}
	requestReconcile(t, hr)
	wantRevisions(t, ns, "app", "1:superseded", "2:deployed")
}

// TestResetRequest: a release stalled after its retries is retried once more after
// reconcile.weir.dev/resetAt clears its counters, and stalls again when that fails too.
func TestResetRequest(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", failingChart())
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"fail": true}`) })
	waitNotReady(t, hr, helmv1.InstallFailedReason, "not a valid key", true)
	wantRevisions(t, ns, "app", "1:failed")

	token := requestWith(t, hr, helmv1.ResetRequestAnnotation)
	testenv.Eventually(t, timeout, func() error {
		if got := revisions(t, ns, "app"); len(got) != 2 {
			return errorf("revisions %v, want a second attempt", got)
		}
		return nil
	})
	waitNotReady(t, hr, helmv1.UpgradeFailedReason, "not a valid key", true)
	if hr.Status.LastHandledResetAt != token || hr.Status.UpgradeFailures != 1 || hr.Status.InstallFailures != 0 {
		t.Fatalf("status after the reset: %+v", hr.Status)
	}
}

// crdFile is a CRD of kind Widget in group, whose schema description says version.
func crdFile(group, kind, plural, version string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[3]s.%[1]s
spec:
  group: %[1]s
  scope: Namespaced
  names: {kind: %[2]s, plural: %[3]s, singular: %[4]s, listKind: %[2]sList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          description: %[5]s
          x-kubernetes-preserve-unknown-fields: true
`, group, kind, plural, plural[:len(plural)-1], version)
}

// crdDescription returns the schema description of CRD name, or "" when it does not exist.
func crdDescription(t *testing.T, name string) string {
	t.Helper()
	var crd apiextensionsv1.CustomResourceDefinition
	err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, &crd)
	if apierrors.IsNotFound(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Description
}

// TestCRDPolicies: install creates the chart's CRDs (Create); upgrades leave them alone by
// default (Skip); Create adds new ones but keeps existing ones; CreateReplace replaces them,
// and a custom resource of a CRD new in the chart installs in the same upgrade.
func TestCRDPolicies(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := ns + ".example.com"
	chartAt := func(version, description string, gadgets bool) testChart {
		c := testChart{version: version, files: map[string]string{"crds/widgets.yaml": crdFile(group, "Widget", "widgets", description)}}
		if gadgets {
			c.files["crds/gadgets.yaml"] = crdFile(group, "Gadget", "gadgets", description)
			c.files["templates/gadget.yaml"] = "apiVersion: " + group + "/v1\nkind: Gadget\nmetadata:\n  name: g\nspec: {}\n"
		}
		return c
	}
	publishChart(t, ns, "chart", chartAt("1.0.0", "one", false))
	hr := createHelmRelease(t, ns, "app", nil)
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	if d := crdDescription(t, "widgets."+group); d != "one" {
		t.Fatalf("CRD after install: %q", d)
	}

	publishChart(t, ns, "chart", chartAt("1.1.0", "two", false))
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.1.0")
	if d := crdDescription(t, "widgets."+group); d != "one" {
		t.Fatalf("upgrade with the default policy Skip changed the CRD: %q", d)
	}

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Upgrade = &helmv1.Upgrade{CRDs: helmv1.CRDsCreate} })
	publishChart(t, ns, "chart", chartAt("1.2.0", "three", true))
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.2.0")
	if d := crdDescription(t, "widgets."+group); d != "one" {
		t.Fatalf("policy Create replaced an existing CRD: %q", d)
	}
	if d := crdDescription(t, "gadgets."+group); d != "three" {
		t.Fatalf("policy Create did not create the new CRD: %q", d)
	}

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Upgrade = &helmv1.Upgrade{CRDs: helmv1.CRDsCreateReplace} })
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.2.0")
	if d := crdDescription(t, "widgets."+group); d != "three" {
		t.Fatalf("policy CreateReplace did not replace the CRD: %q", d)
	}
}

// TestCRDsSkipOnInstall: install.crds Skip installs the release without its CRDs.
func TestCRDsSkipOnInstall(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := ns + ".example.com"
	publishChart(t, ns, "chart", testChart{files: map[string]string{"crds/widgets.yaml": crdFile(group, "Widget", "widgets", "one")}})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.Install = &helmv1.Install{CRDs: helmv1.CRDsSkip} })
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	if d := crdDescription(t, "widgets."+group); d != "" {
		t.Fatal("install with crds Skip created the CRD")
	}
}

func TestCRDsPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   helmv1.HelmReleaseSpec
		action helmv1.ReleaseAction
		want   helmv1.CRDsPolicy
	}{
		{"install default", helmv1.HelmReleaseSpec{}, helmv1.ReleaseActionInstall, helmv1.CRDsCreate},
		{"install skipCRDs (deprecated)", helmv1.HelmReleaseSpec{Install: &helmv1.Install{SkipCRDs: true}}, helmv1.ReleaseActionInstall, helmv1.CRDsSkip},
		{"install set", helmv1.HelmReleaseSpec{Install: &helmv1.Install{CRDs: helmv1.CRDsCreateReplace}}, helmv1.ReleaseActionInstall, helmv1.CRDsCreateReplace},
		{"upgrade default", helmv1.HelmReleaseSpec{Install: &helmv1.Install{CRDs: helmv1.CRDsCreate}}, helmv1.ReleaseActionUpgrade, helmv1.CRDsSkip},
		{"upgrade set", helmv1.HelmReleaseSpec{Upgrade: &helmv1.Upgrade{CRDs: helmv1.CRDsCreate}}, helmv1.ReleaseActionUpgrade, helmv1.CRDsCreate},
	} {
		if got := crdsPolicy(&helmv1.HelmRelease{Spec: tc.spec}, tc.action); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestHandleRequest(t *testing.T) {
	hr := &helmv1.HelmRelease{}
	handled := ""
	hr.Annotations = map[string]string{helmv1.ForceRequestAnnotation: "a"}
	if handleRequest(hr, helmv1.ForceRequestAnnotation, &handled) {
		t.Fatal("a force request without the same reconcile request was handled")
	}
	hr.Annotations[meta.ReconcileRequestAnnotation] = "a"
	if !handleRequest(hr, helmv1.ForceRequestAnnotation, &handled) || handled != "a" {
		t.Fatal("a force request was not handled")
	}
	if handleRequest(hr, helmv1.ForceRequestAnnotation, &handled) {
		t.Fatal("a handled request was handled again")
	}
	hr.Annotations[meta.ReconcileRequestAnnotation] = "b"
	if handleRequest(hr, helmv1.ForceRequestAnnotation, &handled) {
		t.Fatal("a stale force value was replayed by a new reconcile request")
	}
}
