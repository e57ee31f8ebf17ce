package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// TestApplyUpdatePrune: a multi-object app is applied with ownership labels; a new revision
// updates what changed and prunes what left, triggered by the source without waiting for the
// interval.
func TestApplyUpdatePrune(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/a.yaml": configMap("a", "1"), "app/b.yaml": configMap("b", "1"), "other/x.yaml": configMap("x", "1"),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")
	var a corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "a"}, &a); err != nil {
		t.Fatal(err)
	}
	if a.Labels["kustomize.weir.dev/name"] != "app" || a.Labels["kustomize.weir.dev/namespace"] != ns {
		t.Errorf("ownership labels %v", a.Labels)
	}
	if configMapValue(t, ns, "x") != "<absent>" {
		t.Error("a file outside spec.path was applied")
	}
	if n := inventoryLen(ks.Status.Inventory); n != 2 {
		t.Errorf("inventory has %d entries, want 2: %+v", n, ks.Status.Inventory)
	}

	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/a.yaml": configMap("a", "2")})
	waitApplied(t, ks, "main@sha1:2")
	waitConfigMap(t, ns, "a", "2")
	waitConfigMap(t, ns, "b", "<absent>")
	if n := inventoryLen(ks.Status.Inventory); n != 1 {
		t.Errorf("inventory has %d entries after the prune, want 1", n)
	}
	if len(ks.Status.History) != 2 || ks.Status.History[0].Metadata["revision"] != "main@sha1:2" {
		t.Errorf("history %+v", ks.Status.History)
	}
}

// TestCRDAndCustomResourcesTogether: a CRD and its custom resources in one Kustomization.
func TestCRDAndCustomResourcesTogether(t *testing.T) {
	ns := env.Namespace(t)
	group := strings.ReplaceAll(ns, "-", "") + ".example.com"
	crd := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.` + group + `
spec:
  group: ` + group + `
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`
	cr := "apiVersion: " + group + "/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: " + ns + "\nspec:\n  size: 3\n"
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"crds/crd.yaml": crd, "crds/widget.yaml": cr})
	ks := createKustomization(t, ns, "widgets", "./crds", func(k *kustomizev1.Kustomization) {
		k.Spec.DeletionPolicy = kustomizev1.DeletionPolicyOrphan
	})
	waitApplied(t, ks, "main@sha1:1")
	if n := inventoryLen(ks.Status.Inventory); n != 2 {
		t.Errorf("inventory %+v, want the CRD and the Widget", ks.Status.Inventory)
	}
}

// TestPruneSafety: an emptied path never prunes everything; objects annotated
// prune: disabled and objects another owner took over survive a prune.
func TestPruneSafety(t *testing.T) {
	ns := env.Namespace(t)
	keep := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  annotations: {kustomize.weir.dev/prune: disabled}\ndata: {value: k}\n"
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/a.yaml": configMap("a", "1"), "app/keep.yaml": keep, "app/taken.yaml": configMap("taken", "1"),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")

	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/README.md": "nothing here"})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.EmptyPruneRefusedReason, "spec.allowEmptyPrune"))
	if err := testenv.CheckCondition(ks, meta.StalledCondition, metav1.ConditionTrue, kustomizev1.EmptyPruneRefusedReason, ""); err != nil {
		t.Error(err)
	}
	for _, name := range []string{"a", "keep", "taken"} {
		if configMapValue(t, ns, name) == "<absent>" {
			t.Errorf("%s was deleted by an empty build", name)
		}
	}

	// Another owner takes "taken" over; the next revision drops a, keep and taken.
	var taken corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "taken"}, &taken); err != nil {
		t.Fatal(err)
	}
	taken.Labels["kustomize.weir.dev/name"] = "someone-else"
	if err := env.Client.Update(context.Background(), &taken); err != nil {
		t.Fatal(err)
	}
	publish(t, ns, "repo", "main@sha1:3", map[string]string{"app/b.yaml": configMap("b", "1")})
	waitApplied(t, ks, "main@sha1:3")
	waitConfigMap(t, ns, "a", "<absent>")
	if configMapValue(t, ns, "keep") != "k" {
		t.Error("an object annotated prune: disabled was pruned")
	}
	if configMapValue(t, ns, "taken") != "1" {
		t.Error("an object owned by another Kustomization was pruned")
	}
}

// TestDeletionPolicies: Delete removes the applied objects with the Kustomization; Orphan
// leaves them.
func TestDeletionPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   string
		prune  bool
	}{
		{kustomizev1.DeletionPolicyDelete, "<absent>", false},
		{kustomizev1.DeletionPolicyOrphan, "1", true},
		{kustomizev1.DeletionPolicyMirrorPrune, "<absent>", true},
		{kustomizev1.DeletionPolicyMirrorPrune, "1", false},
	} {
		t.Run(fmt.Sprintf("%s prune %v", tc.policy, tc.prune), func(t *testing.T) {
			ns := env.Namespace(t)
			publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/a.yaml": configMap("a", "1")})
			ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
				k.Spec.TargetNamespace = ns
				k.Spec.DeletionPolicy = tc.policy
				k.Spec.Prune = tc.prune
			})
			waitApplied(t, ks, "main@sha1:1")
			if err := env.Client.Delete(context.Background(), ks); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, timeout, func() error {
				if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks); err == nil {
					return errString("the Kustomization still exists")
				} else {
					return client.IgnoreNotFound(err)
				}
			})
			waitConfigMap(t, ns, "a", tc.want)
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestDeletionWaitsForTermination: with WaitForTermination the Kustomization keeps its finalizer
// until the objects it deleted are gone, so whatever depends on their removal can rely on it.
func TestDeletionWaitsForTermination(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	held := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [test.weir.dev/hold]\ndata: {value: '1'}\n"
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/held.yaml": held})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.DeletionPolicy = kustomizev1.DeletionPolicyWaitForTermination
		k.Spec.Timeout = &metav1.Duration{Duration: 30 * time.Second}
	})
	waitApplied(t, ks, "main@sha1:1")
	if err := env.Client.Delete(ctx, ks); err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "held"}, &cm); err != nil {
			return err
		}
		if cm.DeletionTimestamp == nil {
			return errString("the ConfigMap is not being deleted yet")
		}
		return nil
	})
	time.Sleep(3 * ssaWaitInterval / 2)
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ks), ks); err != nil {
		t.Fatalf("the Kustomization went away while its object was still terminating: %v", err)
	}
	cm.Finalizers = nil
	if err := env.Client.Update(ctx, &cm); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ks), ks); err == nil {
			return errString("the Kustomization still exists")
		} else {
			return client.IgnoreNotFound(err)
		}
	})
}

// TestSSAPolicies: kustomize.weir.dev/ssa: IfNotPresent creates an object once and then leaves
// the cluster's copy alone; Ignore never applies it.
func TestSSAPolicies(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	withPolicy := func(name, policy string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  annotations: {kustomize.weir.dev/ssa: " + policy + "}\ndata: {value: from-git}\n"
	}
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/once.yaml": withPolicy("once", "IfNotPresent"), "app/ignored.yaml": withPolicy("ignored", "Ignore"),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")
	waitConfigMap(t, ns, "once", "from-git")
	if v := configMapValue(t, ns, "ignored"); v != "<absent>" {
		t.Errorf("an object annotated Ignore was applied (%q)", v)
	}

	var cm corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "once"}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["value"] = "edited"
	if err := env.Client.Update(ctx, &cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	before := ks.Status.LastHandledReconcileAt
	requestReconcile(t, ks)
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ks), ks); err != nil {
			return err
		}
		if ks.Status.LastHandledReconcileAt == before {
			return errString("the reconcile request is not handled yet")
		}
		return env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionTrue, "", "")()
	})
	if v := configMapValue(t, ns, "once"); v != "edited" {
		t.Errorf("an IfNotPresent object was overwritten: %q", v)
	}
}
