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

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

const timeout = 30 * time.Second

func configMap(name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: %q\n", name, value)
}

// createKustomization creates a Kustomization of GitRepository "repo" at path, pruning, with a
// 10m interval and a 1s retry interval, changed by mutate.
func createKustomization(t testing.TB, ns, name, path string, mutate func(*kustomizev1.Kustomization)) *kustomizev1.Kustomization {
	t.Helper()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef:     kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
			Path:          path,
			Interval:      metav1.Duration{Duration: 10 * time.Minute},
			RetryInterval: &metav1.Duration{Duration: time.Second},
			Timeout:       &metav1.Duration{Duration: 10 * time.Second},
			Prune:         true,
		},
	}
	if mutate != nil {
		mutate(ks)
	}
	if err := env.Client.Create(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	return ks
}

// waitApplied waits until ks is Ready having applied revision.
func waitApplied(t testing.TB, ks *kustomizev1.Kustomization, revision string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionTrue, "", revision)(); err != nil {
			return err
		}
		if ks.Status.LastAppliedRevision != revision {
			return fmt.Errorf("lastAppliedRevision %q, want %q", ks.Status.LastAppliedRevision, revision)
		}
		return nil
	})
	// The status read is one reconcile's, written whole.
	if err := testenv.CheckKstatus(ks, kustomizationNegative...); err != nil {
		t.Error(err)
	}
}

// configMapValue returns data.value of ConfigMap ns/name, or "<absent>".
func configMapValue(t *testing.T, ns, name string) string {
	t.Helper()
	var cm corev1.ConfigMap
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &cm)
	if apierrors.IsNotFound(err) {
		return "<absent>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data["value"]
}

func waitConfigMap(t *testing.T, ns, name, want string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if got := configMapValue(t, ns, name); got != want {
			return fmt.Errorf("ConfigMap %s/%s value %q, want %q", ns, name, got, want)
		}
		return nil
	})
}
