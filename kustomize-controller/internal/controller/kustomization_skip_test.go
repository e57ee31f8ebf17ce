package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/testenv"
)

// TestUnchangedSkipsApply: a new revision that changes nothing a Kustomization reads is
// applied without a build or an apply, while whatever it does read (a file of its own, a base
// outside its path, substituteFrom variables) and whatever changed in the cluster still gets
// applied: drift is corrected at the interval without a reconcile request.
func TestUnchangedSkipsApply(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	files := map[string]string{
		"base/kustomization.yaml": "resources: [cm.yaml]\n",
		"base/cm.yaml":            configMap("shared", "1"),
		"a/kustomization.yaml":    "resources: [../base, own.yaml]\n",
		"a/own.yaml":              configMap("a-own", "1"),
		"b/cm.yaml":               configMap("b-own", "1"),
		"c/cm.yaml":               configMap("c-own", "${VALUE}"),
	}
	vars := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vars"}, Data: map[string]string{"VALUE": "v1"}}
	if err := env.Client.Create(ctx, vars); err != nil {
		t.Fatal(err)
	}
	publish(t, ns, "repo", "main@sha1:1", files)
	target := func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns }
	a := createKustomization(t, ns, "a", "./a", target)
	b := createKustomization(t, ns, "b", "./b", target)
	// c comes round every two seconds: its drift checks are due at every run.
	c := createKustomization(t, ns, "c", "./c", func(k *kustomizev1.Kustomization) {
		target(k)
		k.Spec.Interval = metav1.Duration{Duration: 2 * time.Second}
		k.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "ConfigMap", Name: "vars"}}}
	})
	for _, ks := range []*kustomizev1.Kustomization{a, b, c} {
		waitApplied(t, ks, "main@sha1:1")
	}

	// Only b's file changes: a and c are Ready at the new revision without applying.
	before := reconciler.skips.Load()
	files["b/cm.yaml"] = configMap("b-own", "2")
	publish(t, ns, "repo", "main@sha1:2", files)
	for _, ks := range []*kustomizev1.Kustomization{a, b, c} {
		waitApplied(t, ks, "main@sha1:2")
	}
	waitConfigMap(t, ns, "b-own", "2")
	if skipped := reconciler.skips.Load() - before; skipped < 2 {
		t.Errorf("%d runs skipped the apply, want at least a's and c's", skipped)
	}

	// The base a uses, outside its path, changes: a applies it.
	files["base/cm.yaml"] = configMap("shared", "2")
	publish(t, ns, "repo", "main@sha1:3", files)
	waitApplied(t, a, "main@sha1:3")
	waitConfigMap(t, ns, "shared", "2")

	// Someone edits and deletes c's object: corrected at c's interval, and reported.
	var cm corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "c-own"}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["value"] = "edited"
	if err := env.Client.Update(ctx, &cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	waitConfigMap(t, ns, "c-own", "v1")
	testenv.Eventually(t, timeout, func() error {
		for _, ev := range env.Events(t, ns, "c") {
			if ev.Reason == kustomizev1.DriftDetectedReason {
				return nil
			}
		}
		return fmt.Errorf("no %s event for c", kustomizev1.DriftDetectedReason)
	})
	if err := env.Client.Delete(ctx, &cm); err != nil {
		t.Fatal(err)
	}
	waitConfigMap(t, ns, "c-own", "v1")

	// Its substituteFrom variables change: applied at the interval.
	vars.Data["VALUE"] = "v2"
	if err := env.Client.Update(ctx, vars); err != nil {
		t.Fatal(err)
	}
	waitConfigMap(t, ns, "c-own", "v2")
}
