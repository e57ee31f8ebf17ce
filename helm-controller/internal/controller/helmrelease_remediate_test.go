package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// failingTemplate adds, when .Values.fail is set, a ConfigMap whose data key the API server
// rejects (keys must be [-._a-zA-Z0-9]+): Helm's client-side schema validation passes it, so
// the action records its revision and then fails on create, deterministically and at once.
const failingTemplate = `{{ if .Values.fail }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-bad
data:
  "not a valid key!": "x"
{{ end }}
`

func failingChart() testChart {
	return testChart{files: map[string]string{"templates/bad.yaml": failingTemplate}}
}

func ptrTo[T any](v T) *T { return &v }

// waitStalledAfter waits until hr stalled with reason after failures failed attempts of its
// kind, with Remediated set by remediation.
func waitStalledAfter(t *testing.T, hr *helmv1.HelmRelease, reason string, installFailures, upgradeFailures int64, remediation, msg string) {
	t.Helper()
	waitNotReady(t, hr, reason, "", true)
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(hr, meta.StalledCondition, metav1.ConditionTrue, reason, "")(); err != nil {
			return err
		}
		st := hr.Status
		if st.InstallFailures != installFailures || st.UpgradeFailures != upgradeFailures || st.Failures != installFailures+upgradeFailures {
			return errorf("failures %d, install %d, upgrade %d; want install %d, upgrade %d",
				st.Failures, st.InstallFailures, st.UpgradeFailures, installFailures, upgradeFailures)
		}
		return testenv.CheckCondition(hr, helmv1.RemediatedCondition, metav1.ConditionTrue, remediation, msg)
	})
}

// TestUpgradeRemediatedByRollback: an upgrade the API server rejects is rolled back to the
// last good revision after each failure, retried twice, then rolled back once more (the last
// failure is remediated by default when retries are set) and left stalled; the cluster keeps
// the good values throughout. A fixed spec upgrades and clears Remediated and the counters.
func TestUpgradeRemediatedByRollback(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", failingChart())
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.MaxHistory = ptrTo(0)
		hr.Spec.Values = jsonValues(`{"fail": false, "v": 1}`)
		hr.Spec.Upgrade = &helmv1.Upgrade{Remediation: &helmv1.UpgradeRemediation{Retries: 2}}
	})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"fail": true, "v": 2}`) })
	waitStalledAfter(t, hr, helmv1.UpgradeFailedReason, 0, 3, helmv1.RollbackSucceededReason,
		"Helm rollback to revision 5 succeeded for release "+ns+"/app after a failed upgrade")
	if err := testenv.CheckCondition(hr, meta.ReadyCondition, metav1.ConditionFalse, helmv1.UpgradeFailedReason, `"not a valid key!"`); err != nil {
		t.Fatal(err)
	}
	// Three failed upgrades, each followed by a rollback to the newest good revision (1, then
	// its copies 3 and 5): seven revisions, the newest a deployed copy of revision 1.
	got := revisions(t, ns, "app")
	if len(got) != 7 || got[6] != "7:deployed" {
		t.Fatalf("revisions %v, want 7 ending with 7:deployed", got)
	}
	waitRendered(t, ns, "app", "v", "1")
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app-bad"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the rejected ConfigMap: %v", err)
	}
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.RollbackSucceededReason, "Helm rollback to revision 1 succeeded")
	if h := hr.Status.History.Latest(); h == nil || h.Version != 7 || h.Status != "deployed" {
		t.Fatalf("history after the rollbacks: %+v", hr.Status.History)
	}

	// Stalled: a reconcile with nothing changed does not try again.
	requestReconcile(t, hr)
	if n := len(revisions(t, ns, "app")); n != 7 {
		t.Fatalf("a stalled release was upgraded again: %v", revisions(t, ns, "app"))
	}

	// Fixed values: one upgrade, Remediated and the counters cleared.
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"fail": false, "v": 3}`) })
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	waitRendered(t, ns, "app", "v", "3")
	if hr.Status.UpgradeFailures != 0 || hr.Status.Failures != 0 {
		t.Fatalf("counters after success: %+v", hr.Status)
	}
	if err := testenv.CheckCondition(hr, helmv1.RemediatedCondition, metav1.ConditionTrue, "", ""); err == nil {
		t.Fatal("Remediated is still set after a successful upgrade")
	}
}

// TestInstallRemediatedByUninstall: a failing install is uninstalled and retried once, then
// uninstalled after its last failure (remediateLastFailure) and left stalled with no release
// and none of its objects in the cluster.
func TestInstallRemediatedByUninstall(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", failingChart())
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.Values = jsonValues(`{"fail": true}`)
		hr.Spec.Install = &helmv1.Install{Remediation: &helmv1.InstallRemediation{Retries: 1, RemediateLastFailure: ptrTo(true)}}
	})
	waitStalledAfter(t, hr, helmv1.InstallFailedReason, 2, 0, helmv1.UninstallSucceededReason,
		"Helm uninstall succeeded for release "+ns+"/app after a failed install")
	wantRevisions(t, ns, "app")
	if hr.Status.Inventory != nil {
		t.Fatalf("status.inventory of an uninstalled release: %+v", hr.Status.Inventory)
	}
	if v := renderedValues(t, ns, "app"); v != nil {
		t.Fatalf("the failed install's ConfigMap is still there: %v", v)
	}
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.UninstallSucceededReason, "after a failed install")
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.InstallFailedReason, `"not a valid key!"`)
}

// TestInstallFailureKeptWithoutRemediateLastFailure: by default the last failed install is
// left in place for inspection, and the release stalls.
func TestInstallFailureKeptWithoutRemediateLastFailure(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", failingChart())
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"fail": true}`) })
	waitNotReady(t, hr, helmv1.InstallFailedReason, `"not a valid key!"`, true)
	wantRevisions(t, ns, "app", "1:failed")
	if err := testenv.CheckCondition(hr, helmv1.RemediatedCondition, metav1.ConditionTrue, "", ""); err == nil {
		t.Fatal("Remediated is set though nothing was remediated")
	}
}

func TestRemediationFor(t *testing.T) {
	uninstall := helmv1.UninstallRemediationStrategy
	for _, tc := range []struct {
		name   string
		spec   helmv1.HelmReleaseSpec
		action helmv1.ReleaseAction
		want   remediation
	}{
		{"install defaults", helmv1.HelmReleaseSpec{}, helmv1.ReleaseActionInstall, remediation{strategy: uninstall}},
		{"upgrade defaults", helmv1.HelmReleaseSpec{}, helmv1.ReleaseActionUpgrade, remediation{strategy: helmv1.RollbackRemediationStrategy}},
		{"upgrade retries remediate the last failure by default",
			helmv1.HelmReleaseSpec{Upgrade: &helmv1.Upgrade{Remediation: &helmv1.UpgradeRemediation{Retries: 3}}},
			helmv1.ReleaseActionUpgrade, remediation{retries: 3, last: true, strategy: helmv1.RollbackRemediationStrategy}},
		{"upgrade by uninstall, last failure kept",
			helmv1.HelmReleaseSpec{Upgrade: &helmv1.Upgrade{Remediation: &helmv1.UpgradeRemediation{Retries: 1, Strategy: &uninstall, RemediateLastFailure: ptrTo(false)}}},
			helmv1.ReleaseActionUpgrade, remediation{retries: 1, strategy: uninstall}},
		{"install retries keep the last failure by default",
			helmv1.HelmReleaseSpec{Install: &helmv1.Install{Remediation: &helmv1.InstallRemediation{Retries: 2}}},
			helmv1.ReleaseActionInstall, remediation{retries: 2, strategy: uninstall}},
		{"RetryOnFailure does not remediate and retries every interval",
			helmv1.HelmReleaseSpec{Interval: metav1.Duration{Duration: time.Minute}, Install: &helmv1.Install{
				Strategy:    &helmv1.ActionStrategy{Name: helmv1.ActionStrategyRetryOnFailure},
				Remediation: &helmv1.InstallRemediation{Retries: 3, RemediateLastFailure: ptrTo(true)}}},
			helmv1.ReleaseActionInstall, remediation{strategy: uninstall, off: true, retries: -1, retryInterval: time.Minute, retryField: "spec.interval"}},
		{"RetryOnFailure with its own interval",
			helmv1.HelmReleaseSpec{Upgrade: &helmv1.Upgrade{Strategy: &helmv1.ActionStrategy{
				Name: helmv1.ActionStrategyRetryOnFailure, RetryInterval: &metav1.Duration{Duration: time.Second}}}},
			helmv1.ReleaseActionUpgrade, remediation{strategy: helmv1.RollbackRemediationStrategy, off: true, retries: -1, retryInterval: time.Second,
				retryField: "spec.upgrade.strategy.retryInterval"}},
	} {
		if got := remediationFor(&helmv1.HelmRelease{Spec: tc.spec}, tc.action); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestUpgradeRenderFailureNotRolledBack: an upgrade that fails before Helm records a revision
// (its template does not render) leaves the deployed revision alone: there is nothing to roll
// back, and retries do not roll back a healthy release.
func TestUpgradeRenderFailureNotRolledBack(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{files: map[string]string{
		"templates/fail.yaml": `{{ if .Values.renderFail }}{{ fail "values say boom" }}{{ end }}`,
	}})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.Upgrade = &helmv1.Upgrade{Remediation: &helmv1.UpgradeRemediation{Retries: 1}}
	})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"renderFail": true}`) })
	// Stalled once the retry failed too. Seen twice under load: Stalled=True already with one
	// failure counted, the second counted a moment later (a stale Stalled while the retry ran;
	// not diagnosed yet): wait for the counter as well, then check it.
	testenv.Eventually(t, timeout, func() error {
		waitNotReady(t, hr, helmv1.UpgradeFailedReason, "values say boom", true)
		if hr.Status.UpgradeFailures < 2 {
			return fmt.Errorf("upgrade failures %d so far", hr.Status.UpgradeFailures)
		}
		return nil
	})
	if hr.Status.UpgradeFailures != 2 {
		t.Fatalf("upgrade failures %d, want 2", hr.Status.UpgradeFailures)
	}
	if err := testenv.CheckCondition(hr, helmv1.RemediatedCondition, metav1.ConditionTrue, "", ""); err == nil {
		t.Fatal("Remediated is set though nothing was recorded to undo")
	}
	wantRevisions(t, ns, "app", "1:deployed")
}

// TestFailedTestsRemediatedByRollback: tests that fail after an upgrade count as a failed
// upgrade: the upgrade is rolled back, retried, rolled back again after the last failure, and
// the release stalls with TestFailed on the good revision.
func TestFailedTestsRemediatedByRollback(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", chartWithTests())
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.MaxHistory = ptrTo(0)
		hr.Spec.Test = &helmv1.Test{Enable: true}
		hr.Spec.Values = jsonValues(`{"v": 1}`)
		hr.Spec.Upgrade = &helmv1.Upgrade{Remediation: &helmv1.UpgradeRemediation{Retries: 1}}
	})
	finishTestPod(t, ns, "app-test-fail", corev1.PodSucceeded)
	finishTestPod(t, ns, "app-test-ok", corev1.PodSucceeded)
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"v": 2}`) })
	finishTestPod(t, ns, "app-test-fail", corev1.PodFailed) // tests of revision 2
	finishTestPod(t, ns, "app-test-fail", corev1.PodFailed) // tests of revision 4, after the rollback to 1
	waitStalledAfter(t, hr, helmv1.TestFailedReason, 0, 2, helmv1.RollbackSucceededReason,
		"Helm rollback to revision 3 succeeded for release "+ns+"/app after a failed upgrade")
	got := revisions(t, ns, "app")
	if len(got) != 5 || got[4] != "5:deployed" {
		t.Fatalf("revisions %v, want 5 ending with 5:deployed", got)
	}
	waitRendered(t, ns, "app", "v", "1")
	// Stalled: a reconcile with nothing changed keeps saying why.
	requestReconcile(t, hr)
	waitNotReady(t, hr, helmv1.TestFailedReason, "Helm test failed for release "+ns+"/app.v4", true)
	if n := len(revisions(t, ns, "app")); n != 5 {
		t.Fatalf("a stalled release was upgraded again: %v", revisions(t, ns, "app"))
	}
}

// TestRetryOnFailure: with strategy RetryOnFailure a failed install is left in place, not
// remediated, and retried every retryInterval (not stalled) until a fix succeeds.
func TestRetryOnFailure(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", failingChart())
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.Values = jsonValues(`{"fail": true}`)
		hr.Spec.Install = &helmv1.Install{Strategy: &helmv1.ActionStrategy{
			Name: helmv1.ActionStrategyRetryOnFailure, RetryInterval: &metav1.Duration{Duration: time.Second}}}
		hr.Spec.Upgrade = &helmv1.Upgrade{Strategy: &helmv1.ActionStrategy{
			Name: helmv1.ActionStrategyRetryOnFailure, RetryInterval: &metav1.Duration{Duration: time.Second}}}
	})
	testenv.Eventually(t, timeout, func() error {
		if got := revisions(t, ns, "app"); len(got) < 3 {
			return errorf("revisions %v, want at least 3 attempts", got)
		}
		return nil
	})
	if err := env.Client.Get(context.Background(), objectKey(hr), hr); err != nil {
		t.Fatal(err)
	}
	if err := testenv.CheckCondition(hr, meta.StalledCondition, metav1.ConditionTrue, "", ""); err == nil {
		t.Fatal("RetryOnFailure stalled")
	}
	if err := testenv.CheckCondition(hr, helmv1.RemediatedCondition, metav1.ConditionTrue, "", ""); err == nil {
		t.Fatal("RetryOnFailure remediated")
	}
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"fail": false}`) })
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
}
