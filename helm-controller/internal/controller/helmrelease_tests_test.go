package controller

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// testPod is a Helm test hook: a Pod named <release>-test-<name>.
const testPod = `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test-%s
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: test
      image: busybox
`

func chartWithTests() testChart {
	return testChart{files: map[string]string{
		"templates/tests/ok.yaml":   fmt.Sprintf(testPod, "ok"),
		"templates/tests/fail.yaml": fmt.Sprintf(testPod, "fail"),
	}}
}

// finishTestPod plays the kubelet for a test pod: there is none on this control plane, so
// Helm's test pods stay Pending until the test sets their phase. It waits for a Pending pod
// called name (Helm deletes and re-creates test pods on every run) and sets phase.
func finishTestPod(t *testing.T, ns, name string, phase corev1.PodPhase) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		var pod corev1.Pod
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &pod); err != nil {
			return err
		}
		if pod.Status.Phase != "" && pod.Status.Phase != corev1.PodPending {
			return errorf("pod %s is %s, waiting for a new run", name, pod.Status.Phase)
		}
		pod.Status.Phase = phase
		return env.Client.Status().Update(context.Background(), &pod)
	})
}

// TestTestsWithFilters: with tests enabled, the install runs the tests the filters select
// (here all but the failing one), and TestSuccess and the history record them.
func TestTestsWithFilters(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", chartWithTests())
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.Test = &helmv1.Test{Enable: true, Filters: &[]helmv1.TestFilter{{Name: "app-test-fail", Exclude: true}}}
	})
	finishTestPod(t, ns, "app-test-ok", corev1.PodSucceeded)
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	if err := testenv.CheckCondition(hr, helmv1.TestSuccessCondition, metav1.ConditionTrue, helmv1.TestSucceededReason,
		"Helm test succeeded for release "+ns+"/app.v1 with tests: app-test-ok"); err != nil {
		t.Fatal(err)
	}
	h := hr.Status.History.Latest()
	if h == nil || h.TestHooks == nil || len(*h.TestHooks) != 1 || (*h.TestHooks)["app-test-ok"] == nil ||
		(*h.TestHooks)["app-test-ok"].Phase != "Succeeded" || (*h.TestHooks)["app-test-ok"].LastCompleted.IsZero() {
		t.Fatalf("history test hooks: %+v", h)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app-test-fail"}, &corev1.Pod{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the excluded test ran: %v", err)
	}
	waitEvent(t, ns, "app", corev1.EventTypeNormal, helmv1.TestSucceededReason, "with tests: app-test-ok")

	// Nothing changed: the tests that passed are not run again.
	requestReconcile(t, hr)
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	wantRevisions(t, ns, "app", "1:deployed")

	// Tests disabled: TestSuccess goes away.
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Test = nil })
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	if err := testenv.CheckCondition(hr, helmv1.TestSuccessCondition, metav1.ConditionTrue, "", ""); err == nil {
		t.Fatal("TestSuccess is still set with tests disabled")
	}
}

// TestFailingTestHook: a test that fails makes the release not Ready (TestFailed) and, with
// no retries, stalled, though the install itself succeeded; with ignoreFailures the next
// release is Ready with TestSuccess=False.
func TestFailingTestHook(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", chartWithTests())
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.Test = &helmv1.Test{Enable: true} })
	// Helm runs tests by weight, then name: app-test-fail first; its failure ends the run.
	finishTestPod(t, ns, "app-test-fail", corev1.PodFailed)
	waitNotReady(t, hr, helmv1.TestFailedReason, "Helm test failed for release "+ns+"/app.v1", true)
	if err := testenv.CheckCondition(hr, helmv1.TestSuccessCondition, metav1.ConditionFalse, helmv1.TestFailedReason, "app-test-fail"); err != nil {
		t.Fatal(err)
	}
	if err := testenv.CheckCondition(hr, helmv1.ReleasedCondition, metav1.ConditionTrue, helmv1.InstallSucceededReason, ""); err != nil {
		t.Fatal(err)
	}
	if hr.Status.InstallFailures != 1 || hr.Status.Failures != 1 {
		t.Fatalf("failed tests must count as a failed install: %+v", hr.Status)
	}
	if h := hr.Status.History.Latest(); h == nil || h.TestHooks == nil || (*h.TestHooks)["app-test-fail"] == nil ||
		(*h.TestHooks)["app-test-fail"].Phase != "Failed" {
		t.Fatalf("history test hooks: %+v", h)
	}
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.TestFailedReason, "app-test-fail")

	// Stalled: nothing runs again until the spec changes.
	requestReconcile(t, hr)
	waitNotReady(t, hr, helmv1.TestFailedReason, "change the spec, chart or values to retry", true)
	wantRevisions(t, ns, "app", "1:deployed")

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Test.IgnoreFailures = true })
	finishTestPod(t, ns, "app-test-fail", corev1.PodFailed)
	waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.0.0")
	if err := env.ObjectIn(hr, helmv1.TestSuccessCondition, metav1.ConditionFalse, helmv1.TestFailedReason, "Helm test failed for release "+ns+"/app.v2")(); err != nil {
		t.Fatal(err)
	}
	if err := testenv.CheckCondition(hr, meta.StalledCondition, metav1.ConditionTrue, "", ""); err == nil {
		t.Fatal("still stalled after ignoring test failures")
	}
}
