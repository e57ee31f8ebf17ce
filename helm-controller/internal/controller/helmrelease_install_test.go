package controller

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/pkg/testenv"
)

// TestInstallUpgradeAndNoop: a HelmRelease installs its chart with its values; a reconcile
// with nothing changed makes no new revision; new values, a new chart version and a spec
// change each make exactly one upgrade. Status records the history, the attempt and the
// events say what happened.
func TestInstallUpgradeAndNoop(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{version: "1.0.0"})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.Values = jsonValues(`{"greeting": "hello", "nested": {"a": 1}}`)
	})

	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	waitRendered(t, ns, "app", "greeting", `"hello"`)
	waitRendered(t, ns, "app", "fromChart", `true`) // the chart's own values stay under ours
	wantRevisions(t, ns, "app", "1:deployed")
	if err := testenv.CheckCondition(hr, "Ready", metav1.ConditionTrue, helmv1.InstallSucceededReason,
		"Helm install succeeded for release "+ns+"/app.v1 with chart demo@1.0.0"); err != nil {
		t.Fatal(err)
	}
	st := hr.Status
	if st.LastAttemptedReleaseAction != helmv1.ReleaseActionInstall || st.LastAttemptedGeneration != hr.Generation ||
		st.LastAttemptedConfigDigest == "" || len(st.LastAttemptedValuesChecksum) != 40 || st.StorageNamespace != ns {
		t.Fatalf("status of the attempt: %+v", st)
	}
	if len(st.History) != 1 || st.History[0].Version != 1 || st.History[0].Status != "deployed" ||
		st.History[0].ChartName != "demo" || st.History[0].ChartVersion != "1.0.0" || st.History[0].AppVersion != "1.0" ||
		st.History[0].ConfigDigest != st.LastAttemptedConfigDigest || st.History[0].Name != "app" || st.History[0].Namespace != ns {
		t.Fatalf("history: %+v", st.History[0])
	}
	waitEvent(t, ns, "app", corev1.EventTypeNormal, helmv1.InstallSucceededReason, "Helm install succeeded")

	// Nothing changed: a requested reconcile observes the release in sync and leaves it alone.
	requestReconcile(t, hr)
	requestReconcile(t, hr)
	wantRevisions(t, ns, "app", "1:deployed")
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	// New values: one upgrade.
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) {
		hr.Spec.Values = jsonValues(`{"greeting": "bonjour", "nested": {"a": 1}}`)
	})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	waitRendered(t, ns, "app", "greeting", `"bonjour"`)
	wantRevisions(t, ns, "app", "1:superseded", "2:deployed")
	if h := hr.Status.History; len(h) != 2 || h[0].Version != 2 || h[0].Status != "deployed" || h[1].Status != "superseded" {
		t.Fatalf("history after the upgrade: %+v", h)
	}

	// A new chart version (source-controller publishes it): one upgrade, started by the
	// HelmChart's change, not by the interval.
	publishChart(t, ns, "chart", testChart{version: "1.1.0"})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.1.0")
	waitRendered(t, ns, "app", "_chartVersion", `"1.1.0"`)
	wantRevisions(t, ns, "app", "1:superseded", "2:superseded", "3:deployed")

	// A spec change that is neither chart nor values (here: the timeout) is a new desired
	// state too: one upgrade.
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Timeout = &metav1.Duration{Duration: 25 * time.Second} })
	testenv.Eventually(t, timeout, func() error {
		if n := len(revisions(t, ns, "app")); n != 4 {
			return errorf("%d revisions, want 4", n)
		}
		return nil
	})
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.1.0")
	requestReconcile(t, hr)
	if n := len(revisions(t, ns, "app")); n != 4 {
		t.Fatalf("a reconcile after the spec change made another revision: %v", revisions(t, ns, "app"))
	}
}

// TestSuspend: a suspended HelmRelease does not act on changes but keeps observedGeneration
// current; resuming applies them.
func TestSuspend(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"v": 1}`) })
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) {
		hr.Spec.Suspend = true
		hr.Spec.Values = jsonValues(`{"v": 2}`)
	})
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), objectKey(hr), hr); err != nil {
			return err
		}
		if hr.Status.ObservedGeneration != hr.Generation {
			return errorf("observedGeneration %d, want %d", hr.Status.ObservedGeneration, hr.Generation)
		}
		return nil
	})
	requestReconcile(t, hr)
	wantRevisions(t, ns, "app", "1:deployed")
	waitRendered(t, ns, "app", "v", "1")

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Suspend = false })
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	waitRendered(t, ns, "app", "v", "2")
	wantRevisions(t, ns, "app", "1:superseded", "2:deployed")
}
