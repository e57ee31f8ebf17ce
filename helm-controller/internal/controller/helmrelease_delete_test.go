package controller

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/pkg/testenv"
)

// waitGone waits until hr no longer exists (its finalizer ran).
func waitGone(t *testing.T, hr *helmv1.HelmRelease) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		err := env.Client.Get(context.Background(), objectKey(hr), hr)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return errorf("HelmRelease %s still exists; finalizers %v", hr.Name, hr.Finalizers)
	})
}

// TestDeleteUninstalls: deleting a HelmRelease uninstalls its release: objects and records
// go, and an event says so. With uninstall.keepHistory the records stay, marked uninstalled.
func TestDeleteUninstalls(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	plain := createHelmRelease(t, ns, "plain", nil)
	kept := createHelmRelease(t, ns, "kept", func(hr *helmv1.HelmRelease) {
		hr.Spec.Uninstall = &helmv1.Uninstall{KeepHistory: true}
	})
	waitReleased(t, plain, helmv1.InstallSucceededReason, "1.0.0")
	waitReleased(t, kept, helmv1.InstallSucceededReason, "1.0.0")

	for _, hr := range []*helmv1.HelmRelease{plain, kept} {
		if err := env.Client.Delete(context.Background(), hr); err != nil {
			t.Fatal(err)
		}
		waitGone(t, hr)
		if renderedValues(t, ns, hr.Name) != nil {
			t.Fatalf("the objects of release %s are still there", hr.Name)
		}
	}
	wantRevisions(t, ns, "plain")
	wantRevisions(t, ns, "kept", "1:uninstalled")
	waitEvent(t, ns, "plain", corev1.EventTypeNormal, helmv1.UninstallSucceededReason, "Helm uninstall succeeded for release "+ns+"/plain")
}

// TestDeleteWithoutIdentity: when the tenant's ServiceAccount is gone (as when its namespace is
// deleted), deleting the HelmRelease leaves the release in place and says so, instead of
// retrying the uninstall as an account that cannot come back.
func TestDeleteWithoutIdentity(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	tenant(t, ns)
	publishChart(t, ns, "chart", testChart{})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.ServiceAccountName = "tenant" })
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	if err := env.Client.Delete(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	waitGone(t, hr)
	wantRevisions(t, ns, "app", "1:deployed")
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.UninstallFailedReason, "ServiceAccount '"+ns+"/tenant' no longer exists")
}

// TestNeverUninstallOthers: a HelmRelease whose release name is taken by another HelmRelease's
// release stalls instead of touching it, and deleting it leaves that release in place. A
// suspended HelmRelease's release is left in place too.
func TestNeverUninstallOthers(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	owner := createHelmRelease(t, ns, "owner", func(hr *helmv1.HelmRelease) {
		hr.Spec.ReleaseName = "shared"
		hr.Spec.Values = jsonValues(`{"who": "owner"}`)
	})
	waitReleased(t, owner, helmv1.InstallSucceededReason, "1.0.0")

	intruder := createHelmRelease(t, ns, "intruder", func(hr *helmv1.HelmRelease) {
		hr.Spec.ReleaseName = "shared"
		hr.Spec.Values = jsonValues(`{"who": "intruder"}`)
	})
	waitNotReady(t, intruder, helmv1.ReleaseNotOwnedReason,
		"release "+ns+"/shared (storage namespace '"+ns+"') belongs to another owner (helm.weir.dev/name=owner, helm.weir.dev/namespace="+ns+")", true)
	if err := env.Client.Delete(context.Background(), intruder); err != nil {
		t.Fatal(err)
	}
	waitGone(t, intruder)
	wantRevisions(t, ns, "shared", "1:deployed")
	waitRendered(t, ns, "shared", "who", `"owner"`)

	updateHelmRelease(t, owner, func(hr *helmv1.HelmRelease) { hr.Spec.Suspend = true })
	if err := env.Client.Delete(context.Background(), owner); err != nil {
		t.Fatal(err)
	}
	waitGone(t, owner)
	wantRevisions(t, ns, "shared", "1:deployed")
}
