package controller

import (
	"bytes"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	helmtime "helm.sh/helm/v3/pkg/time"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/pkg/testenv"
)

// helmStorage is Helm's storage of releases in ns, read and written as the administrator: the
// tests use it to put releases into the states a crashed controller leaves behind.
func helmStorage(t *testing.T, ns string) *storage.Storage {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return storage.Init(driver.NewSecrets(cs.CoreV1().Secrets(ns)))
}

// TestUnlockPendingUpgrade: a controller stopped in the middle of an upgrade leaves the
// newest revision pending-upgrade, on which Helm refuses to act. The controller detects it,
// marks it failed (with a warning event) and upgrades: the release is not stuck.
func TestUnlockPendingUpgrade(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"v": 1}`) })
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	store := helmStorage(t, ns)
	deployed, err := store.Get("app", 1)
	if err != nil {
		t.Fatal(err)
	}
	stuck := *deployed
	info := *deployed.Info
	stuck.Info = &info
	stuck.Version = 2
	stuck.Info.Status = release.StatusPendingUpgrade
	stuck.Info.Description = "Preparing upgrade"
	stuck.Info.LastDeployed = helmtime.Now()
	if err := store.Create(&stuck); err != nil {
		t.Fatal(err)
	}
	// A reconcile still in flight after the install may already have unlocked it; either way
	// the stuck revision was written.
	if got := revisions(t, ns, "app"); len(got) < 2 || (got[1] != "2:pending-upgrade" && got[1] != "2:failed") {
		t.Fatalf("revisions %v after writing a pending-upgrade revision 2", got)
	}

	requestReconcile(t, hr)
	testenv.Eventually(t, timeout, func() error {
		if got := revisions(t, ns, "app"); len(got) != 3 || got[1] != "2:failed" || got[2] != "3:deployed" {
			return errorf("revisions %v, want 2:failed and 3:deployed", got)
		}
		return nil
	})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.UnlockedReason, "release "+ns+"/app.v2 was left pending-upgrade by an interrupted action; marked it failed to retry")
	if h := hr.Status.History; len(h) < 2 || h[0].Version != 3 || h[0].Status != "deployed" || h[1].Status != "failed" {
		t.Fatalf("history %+v, want v3 deployed then v2 failed", h)
	}
}

// TestUnlockPendingInstall: a first install interrupted by a controller restart leaves
// revision 1 pending-install; a new controller unlocks it and installs over it.
func TestUnlockPendingInstall(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	ch, err := loader.LoadArchive(bytes.NewReader(packageChart(t, testChart{})))
	if err != nil {
		t.Fatal(err)
	}
	now := helmtime.Now()
	stuck := &release.Release{
		Name: "app", Namespace: ns, Version: 1, Chart: ch, Config: map[string]any{},
		Info:   &release.Info{Status: release.StatusPendingInstall, FirstDeployed: now, LastDeployed: now, Description: "Initial install underway"},
		Labels: map[string]string{helmv1.OwnerNameLabel: "app", helmv1.OwnerNamespaceLabel: ns},
	}
	if err := helmStorage(t, ns).Create(stuck); err != nil {
		t.Fatal(err)
	}
	hr := createHelmRelease(t, ns, "app", nil)
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	// Helm supersedes the failed revision the upgrade replaced.
	wantRevisions(t, ns, "app", "1:superseded", "2:deployed")
	waitRendered(t, ns, "app", "fromChart", "true")
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.UnlockedReason, "release "+ns+"/app.v1 was left pending-install")
}
