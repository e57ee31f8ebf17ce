package controller

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
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

// TestHealthCheckExprs: a custom kind kstatus knows nothing about is assessed by the CEL
// expressions of spec.healthCheckExprs: failed ends the wait at once naming the object, current
// makes it Healthy; an
// expression that does not compile stalls the Kustomization naming the entry.
func TestHealthCheckExprs(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	group := ns + ".test.weir.dev"
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "gadgets." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group, Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "gadgets", Singular: "gadget", Kind: "Gadget", ListKind: "GadgetList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true),
				}},
			}},
		},
	}
	if err := env.Client.Create(ctx, crd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, crd) })
	testenv.Eventually(t, timeout, func() error {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion(group + "/v1")
		list.SetKind("GadgetList")
		return env.Client.List(ctx, list, client.InNamespace(ns))
	})

	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/gadget.yaml":    "apiVersion: " + group + "/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {size: 1}\n",
		"broken/gadget.yaml": "apiVersion: " + group + "/v1\nkind: Gadget\nmetadata: {name: h}\nspec: {size: 1}\n",
	})
	exprs := []kustomizev1.CustomHealthCheck{{
		APIVersion: group + "/v1", Kind: "Gadget",
		Current: "has(status.phase) && status.phase == 'Running'",
		Failed:  "has(status.phase) && status.phase == 'Broken'",
	}}
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Wait = true
		k.Spec.HealthCheckExprs = exprs
		k.Spec.Timeout = &metav1.Duration{Duration: 3 * time.Second}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, kustomizev1.HealthCheckFailedCondition, metav1.ConditionTrue, meta.HealthCheckFailedReason, "Gadget/"+ns+"/g"))

	gadget := &unstructured.Unstructured{}
	gadget.SetAPIVersion(group + "/v1")
	gadget.SetKind("Gadget")
	setPhase := func(name, phase string) {
		t.Helper()
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, gadget); err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedField(gadget.Object, phase, "status", "phase"); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Status().Update(ctx, gadget); err != nil {
			t.Fatal(err)
		}
	}
	setPhase("g", "Running")
	waitApplied(t, ks, "main@sha1:1")
	if err := testenv.CheckCondition(ks, kustomizev1.HealthyCondition, metav1.ConditionTrue, "", ""); err != nil {
		t.Error(err)
	}

	broken := createKustomization(t, ns, "broken", "./broken", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.HealthChecks = []meta.NamespacedObjectKindReference{{APIVersion: group + "/v1", Kind: "Gadget", Name: "h"}}
		k.Spec.HealthCheckExprs = exprs
		k.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
	})
	testenv.Eventually(t, timeout, func() error {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "h"}, &unstructured.Unstructured{Object: map[string]any{"apiVersion": group + "/v1", "kind": "Gadget"}})
	})
	setPhase("h", "Broken")
	testenv.Eventually(t, timeout, env.ObjectIn(broken, meta.ReadyCondition, metav1.ConditionFalse, meta.HealthCheckFailedReason, "broken/gadget.yaml:1: Gadget/"+ns+"/h: status: 'Failed'"))

	invalid := createKustomization(t, ns, "invalid", "./broken", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Wait = true
		k.Spec.HealthCheckExprs = []kustomizev1.CustomHealthCheck{{APIVersion: group + "/v1", Kind: "Gadget", Current: "status.phase ==="}}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(invalid, meta.StalledCondition, metav1.ConditionTrue, meta.InvalidSpecReason, "spec.healthCheckExprs[0]"))
}
