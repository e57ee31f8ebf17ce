package controller

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

var watchLabels = map[string]string{meta.WatchLabel: meta.WatchLabelEnabled}

// TestWatchLabelledConfigs: a change to a ConfigMap or Secret labelled reconcile.weir.dev/watch:
// Enabled that a Kustomization substitutes from reconciles it at once. Its interval is an hour
// and its source does not change, so only the watch explains a new apply. A change to an
// unlabelled one does not: another Kustomization's later labelled change is applied first, and
// the unlabelled value shows only once that ConfigMap gets the label.
func TestWatchLabelledConfigs(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	watched := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "watched", Labels: watchLabels}, Data: map[string]string{"A": "a1"}}
	plain := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "plain"}, Data: map[string]string{"B": "b1"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "secret", Labels: watchLabels}, StringData: map[string]string{"C": "c1"}}
	signal := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "signal", Labels: watchLabels}, Data: map[string]string{"S": "s1"}}
	for _, o := range []client.Object{watched, plain, secret, signal} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/cm.yaml": configMap("out", "${A}-${B}-${C}"),
		"sig/cm.yaml": configMap("sig-out", "${S}"),
	})
	hourly := func(from ...kustomizev1.SubstituteReference) func(*kustomizev1.Kustomization) {
		return func(k *kustomizev1.Kustomization) {
			k.Spec.TargetNamespace = ns
			k.Spec.Interval = metav1.Duration{Duration: time.Hour}
			k.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: from}
		}
	}
	app := createKustomization(t, ns, "app", "./app", hourly(
		kustomizev1.SubstituteReference{Kind: "ConfigMap", Name: "watched"},
		kustomizev1.SubstituteReference{Kind: "ConfigMap", Name: "plain"},
		kustomizev1.SubstituteReference{Kind: "Secret", Name: "secret"}))
	sig := createKustomization(t, ns, "sig", "./sig", hourly(kustomizev1.SubstituteReference{Kind: "ConfigMap", Name: "signal"}))
	waitApplied(t, app, "main@sha1:1")
	waitApplied(t, sig, "main@sha1:1")
	waitConfigMap(t, ns, "out", "a1-b1-c1")

	watched.Data["A"] = "a2"
	update(t, watched)
	waitConfigMap(t, ns, "out", "a2-b1-c1")

	secret.StringData = map[string]string{"C": "c2"}
	update(t, secret)
	waitConfigMap(t, ns, "out", "a2-b1-c2")

	plain.Data["B"] = "b2"
	update(t, plain)
	signal.Data["S"] = "s2"
	update(t, signal)
	waitConfigMap(t, ns, "sig-out", "s2")
	if got := configMapValue(t, ns, "out"); got != "a2-b1-c2" {
		t.Fatalf("out = %q after a change to the unlabelled ConfigMap plain: it was reconciled, want a2-b1-c2", got)
	}

	plain.Labels = watchLabels
	update(t, plain)
	waitConfigMap(t, ns, "out", "a2-b2-c2")
}

// update writes o, whose resourceVersion is the one last read or written.
func update(t *testing.T, o client.Object) {
	t.Helper()
	if err := env.Client.Update(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}
