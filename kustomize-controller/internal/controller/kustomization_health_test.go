package controller

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.0}]
`

// TestHealthChecks: with spec.wait, a Deployment that never becomes available fails the health
// check naming it, within spec.timeout; once its status (driven by the test, as there is no
// kubelet) says it is available, the Kustomization is Healthy and Ready.
func TestHealthChecks(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/deploy.yaml": deployment})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Wait = true
		k.Spec.Timeout = &metav1.Duration{Duration: 3 * time.Second}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, kustomizev1.HealthCheckFailedCondition, metav1.ConditionTrue, meta.HealthCheckFailedReason, "web"))
	if err := testenv.CheckCondition(ks, meta.ReadyCondition, metav1.ConditionFalse, meta.HealthCheckFailedReason, ""); err != nil {
		t.Error(err)
	}

	var dep appsv1.Deployment
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, &dep); err != nil {
		t.Fatal(err)
	}
	dep.Status = appsv1.DeploymentStatus{
		ObservedGeneration: dep.Generation, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
		},
	}
	if err := env.Client.Status().Update(context.Background(), &dep); err != nil {
		t.Fatal(err)
	}
	waitApplied(t, ks, "main@sha1:1")
	if err := testenv.CheckCondition(ks, kustomizev1.HealthyCondition, metav1.ConditionTrue, "", ""); err != nil {
		t.Error(err)
	}
}

// TestImmutableFieldChange: changing an immutable field fails the apply naming the object,
// unless spec.force recreates it.
func TestImmutableFieldChange(t *testing.T) {
	ns := env.Namespace(t)
	secret := func(typ string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: " + typ + "\nstringData: {k: v}\n"
	}
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/s.yaml": secret("Opaque")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")

	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/s.yaml": secret("example.com/other")})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.ApplyFailedReason, "Secret/"+ns+"/s"))

	patch := client.MergeFrom(ks.DeepCopy())
	ks.Spec.Force = true
	if err := env.Client.Patch(context.Background(), ks, patch); err != nil {
		t.Fatal(err)
	}
	waitApplied(t, ks, "main@sha1:2")
	var s corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "s"}, &s); err != nil || s.Type != "example.com/other" {
		t.Fatalf("secret type %q, %v; want it recreated with the new type", s.Type, err)
	}
}
