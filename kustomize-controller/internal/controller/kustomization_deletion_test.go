package controller

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// TestWaitForTerminationIsBounded: with WaitForTermination, an object whose finalizer nobody
// removes holds the Kustomization's deletion for spec.timeout only; then a Warning event names
// the object still terminating and the Kustomization goes, leaving the object as it is.
func TestWaitForTerminationIsBounded(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	createTenant(t, ns)
	held := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: " + ns + "\n  finalizers: [test.weir.dev/hold]\ndata: {value: '1'}\n"
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/held.yaml": held, "app/a.yaml": configMapIn(ns, "a", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		asTenant(k)
		k.Spec.DeletionPolicy = kustomizev1.DeletionPolicyWaitForTermination
		k.Spec.Timeout = &metav1.Duration{Duration: 4 * time.Second}
	})
	waitApplied(t, ks, "main@sha1:1")
	t.Cleanup(func() { releaseHeld(t, ns, "held") })

	if err := env.Client.Delete(ctx, ks); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitGone(t, ks)
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("the Kustomization went after %s, before its objects terminated or spec.timeout passed", d)
	}
	waitEvent(t, ns, "app", kustomizev1.PruneFailedReason, "deleted objects still terminating: ConfigMap/"+ns+"/held",
		"the finalizer is released after spec.timeout (4s)")
	waitConfigMap(t, ns, "a", "<absent>")
	var cm corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "held"}, &cm); err != nil || cm.DeletionTimestamp == nil {
		t.Errorf("the held ConfigMap should still be terminating: %v", err)
	}
}

// releaseHeld removes the finalizers of ConfigMap ns/name, if it still exists.
func releaseHeld(t *testing.T, ns, name string) {
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
		return
	}
	cm.Finalizers = nil
	if err := env.Client.Update(context.Background(), &cm); err != nil {
		t.Error(err)
	}
}
