package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// A health timeout far longer than any test: a wait that ends within the test's deadline was
// canceled, not timed out. (No Deployment ever becomes Available here: there is no
// kube-controller-manager.)
const longHealthTimeout = 10 * time.Minute

// waitInProgress waits until ks says it is waiting for its objects at revision, naming want,
// and has handled the reconcile request token.
func waitInProgress(t *testing.T, ks *kustomizev1.Kustomization, revision, want, token string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		msg := "applied revision " + revision + "; waiting for "
		if err := env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionUnknown, kustomizev1.HealthCheckInProgressReason, msg)(); err != nil {
			return err
		}
		if err := testenv.CheckCondition(ks, meta.ReconcilingCondition, metav1.ConditionTrue, kustomizev1.HealthCheckInProgressReason, want); err != nil {
			return err
		}
		if got := ks.Status.LastHandledReconcileAt; got != token {
			return fmt.Errorf("lastHandledReconcileAt %q, want %q", got, token)
		}
		return nil
	})
}

func request(t *testing.T, ks *kustomizev1.Kustomization, token string) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ks), ks); err != nil {
			return err
		}
		if ks.Annotations == nil {
			ks.Annotations = map[string]string{}
		}
		ks.Annotations[meta.ReconcileRequestAnnotation] = token
		return env.Client.Update(ctx, ks)
	})
}

// TestNewRevisionCancelsHealthCheck: a Kustomization waiting (10m) for a Deployment that never
// becomes available says so in its status before the wait ends, with the reconcile request
// recorded as handled; a new source revision arriving during the wait cancels it and is
// applied at once.
func TestNewRevisionCancelsHealthCheck(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/deploy.yaml": deployment, "app/cm.yaml": configMap("settings", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Annotations = map[string]string{meta.ReconcileRequestAnnotation: "first"}
		k.Spec.TargetNamespace = ns
		k.Spec.Wait = true
		k.Spec.Timeout = &metav1.Duration{Duration: longHealthTimeout}
	})
	waitInProgress(t, ks, "main@sha1:1", "waiting for 1 of 2 objects (timeout 10m0s): Deployment/"+ns+"/web InProgress", "first")
	if ks.Status.LastAppliedRevision == "main@sha1:1" {
		t.Fatal("revision 1 counted as applied while its health check runs")
	}

	// The fix: no Deployment any more.
	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/cm.yaml": configMap("settings", "2")})
	waitApplied(t, ks, "main@sha1:2")
	waitConfigMap(t, ns, "settings", "2")
	if got := configMapValue(t, ns, "web"); got != "<absent>" {
		t.Fatalf("unexpected ConfigMap web: %q", got)
	}
}

// TestNewGenerationCancelsHealthCheck: a new generation of the Kustomization, and a reconcile
// request, each cancel a running health wait; the request is recorded as handled before the
// next wait begins.
func TestNewGenerationCancelsHealthCheck(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/deploy.yaml": deployment, "fix/cm.yaml": configMap("fixed", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Wait = true
		k.Spec.Timeout = &metav1.Duration{Duration: longHealthTimeout}
	})
	waitInProgress(t, ks, "main@sha1:1", "Deployment/"+ns+"/web InProgress", "")

	// `weir reconcile` during the wait: handled within the test's deadline, not after 10m.
	request(t, ks, "during-the-wait")
	waitInProgress(t, ks, "main@sha1:1", "Deployment/"+ns+"/web InProgress", "during-the-wait")

	// A new generation pointing at the fix.
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks); err != nil {
			return err
		}
		ks.Spec.Path = "./fix"
		return env.Client.Update(context.Background(), ks)
	})
	waitApplied(t, ks, "main@sha1:1")
	waitConfigMap(t, ns, "fixed", "1")
	if ks.Status.ObservedGeneration != ks.Generation {
		t.Fatalf("observedGeneration %d, want %d", ks.Status.ObservedGeneration, ks.Generation)
	}
}

// TestHealthWaitProgressOverwritten: the progress a wait writes never outlives its run: an
// attempt failing exactly as the one before still ends Ready=False, not the wait's Unknown.
func TestHealthWaitProgressOverwritten(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/deploy.yaml": deployment})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Wait = true
		k.Spec.Timeout = &metav1.Duration{Duration: 3 * time.Second}
	})
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, meta.HealthCheckFailedReason, "Deployment/"+ns+"/web")(); err != nil {
			return err
		}
		if len(ks.Status.History) == 0 || ks.Status.History[0].TotalReconciliations < 3 {
			return fmt.Errorf("history %+v: want the third identical failure", ks.Status.History)
		}
		return nil
	})
}
