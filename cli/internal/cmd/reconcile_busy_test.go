package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

// fakeControllerConditions is fakeController writing several conditions (observed at the
// object's generation) and leaving status.observedGeneration as it is, as a controller does
// after a failure it retries.
func fakeControllerConditions(t *testing.T, kind, ns, name string, conds ...metav1.Condition) {
	t.Helper()
	k, err := objects.FindKind(kind)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			u := k.New()
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
				continue
			}
			requested := u.GetAnnotations()[meta.ReconcileRequestAnnotation]
			if requested == "" || requested == objects.LastHandledReconcileAt(u) {
				continue
			}
			list := make([]any, 0, len(conds))
			for _, c := range conds {
				c.ObservedGeneration = u.GetGeneration()
				c.LastTransitionTime = metav1.Now()
				m, err := runtimeToMap(&c)
				if err != nil {
					t.Errorf("fake controller: %v", err)
					return
				}
				list = append(list, m)
			}
			_ = unstructured.SetNestedField(u.Object, requested, "status", "lastHandledReconcileAt")
			_ = unstructured.SetNestedSlice(u.Object, list, "status", "conditions")
			if err := env.Client.Status().Update(ctx, u); err != nil {
				t.Logf("fake controller: %v", err)
			}
		}
	}()
}

const waitingMessage = "applied revision main@sha1:2; waiting for 1 object (timeout 10m0s): Deployment/apps/web InProgress"

// TestReconcileFailsWhileRetrying: a failure the controller retries (Ready=False while
// Reconciling) is reported at once with its message and exit 1, not waited for until the
// timeout.
func TestReconcileFailsWhileRetrying(t *testing.T) {
	ns := env.Namespace(t)
	create(t, kustomization(ns, "apps", "app", nil, ""))
	fakeControllerConditions(t, "ks", ns, "apps",
		metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: meta.DependencyNotReadyReason, Message: "dependency HelmRelease 'apps/db' is not ready"},
		metav1.Condition{Type: meta.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: meta.ProgressingWithRetryReason, Message: "dependency HelmRelease 'apps/db' is not ready"})

	code, out, errOut := weir(t, "reconcile", "ks", "apps", "-n", ns, "--timeout", "2m")
	if code != 1 || !strings.Contains(errOut, "DependencyNotReady: dependency HelmRelease 'apps/db' is not ready") || strings.Contains(errOut, "timed out") {
		t.Fatalf("code %d, stderr %q\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "kustomize-controller retries it") {
		t.Errorf("output does not say the controller retries:\n%s", out)
	}
}

// TestReconcileBusyController: a request not handled in time, on an object whose status shows
// its controller at work (a health wait), is reported as a busy controller, never as one that
// may not be running.
func TestReconcileBusyController(t *testing.T) {
	ns := env.Namespace(t)
	create(t, kustomization(ns, "apps", "app", []metav1.Condition{
		{Type: meta.ReadyCondition, Status: metav1.ConditionUnknown, Reason: kustomizev1.HealthCheckInProgressReason, Message: waitingMessage, ObservedGeneration: 1, LastTransitionTime: metav1.Now()},
		{Type: meta.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: kustomizev1.HealthCheckInProgressReason, Message: waitingMessage, ObservedGeneration: 1, LastTransitionTime: metav1.Now()},
	}, ""))

	code, _, errOut := weir(t, "reconcile", "ks", "apps", "-n", ns, "--timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "kustomize-controller has not handled the reconcile request of Kustomization "+ns+"/apps yet: it is busy with it (Reconciling: "+waitingMessage+")") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	if strings.Contains(errOut, "is it running") {
		t.Fatalf("a busy controller is reported as possibly down: %q", errOut)
	}
}

// TestReconcileHandledInProgress: a request handled by a run that waits for health shows the
// wait's progress, and a timeout says the request was handled and what is waited for.
func TestReconcileHandledInProgress(t *testing.T) {
	ns := env.Namespace(t)
	create(t, kustomization(ns, "apps", "app", nil, ""))
	fakeControllerConditions(t, "ks", ns, "apps",
		metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionUnknown, Reason: kustomizev1.HealthCheckInProgressReason, Message: waitingMessage},
		metav1.Condition{Type: meta.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: kustomizev1.HealthCheckInProgressReason, Message: waitingMessage})

	code, out, errOut := weir(t, "reconcile", "ks", "apps", "-n", ns, "--timeout", "15s")
	if code != 1 || !strings.Contains(errOut, "which handled the request and is still in progress: Ready=Unknown HealthCheckInProgress: "+waitingMessage) {
		t.Fatalf("code %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"◎ kustomize-controller picked up the request", "◎ HealthCheckInProgress: " + waitingMessage} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
