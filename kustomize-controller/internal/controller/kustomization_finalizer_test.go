package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// TestLegacyFinalizerIsReplaced: a Kustomization from before the finalizer's rename carries
// finalizers.weir.dev; the controller trades it for weir.dev/finalizer, and a Kustomization
// deleted while it still carries only the old name is finalized (its objects pruned) and goes.
func TestLegacyFinalizerIsReplaced(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	createTenant(t, ns)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/a.yaml": configMapIn(ns, "a", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		asTenant(k)
		k.Finalizers = []string{meta.LegacyFinalizer}
	})
	waitApplied(t, ks, "main@sha1:1")
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ks), ks); err != nil {
			return err
		}
		if !slices.Equal(ks.Finalizers, []string{meta.Finalizer}) {
			return fmt.Errorf("finalizers %v, want [%s]", ks.Finalizers, meta.Finalizer)
		}
		return nil
	})

	// Deleted with the old name only (as after a downgrade and upgrade): still finalized.
	gone := createKustomization(t, ns, "old", "./app", func(k *kustomizev1.Kustomization) {
		asTenant(k)
		k.Spec.Suspend = true
		k.Finalizers = []string{meta.LegacyFinalizer}
	})
	if err := env.Client.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	waitGone(t, gone)
}
