package controller

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
)

// TestWatchLabelledValues: a change to a ConfigMap or Secret labelled reconcile.weir.dev/watch:
// Enabled that a HelmRelease's valuesFrom reads upgrades the release at once. Its interval is
// an hour and its chart does not change, so only the watch explains the upgrade. A change to an
// unlabelled one does not: another HelmRelease's later labelled change is released first, and
// the unlabelled value shows only once that ConfigMap gets the label.
func TestWatchLabelledValues(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	ctx := context.Background()
	labelled := map[string]string{meta.WatchLabel: meta.WatchLabelEnabled}
	watched := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "watched", Labels: labelled}, Data: map[string]string{"values.yaml": "a: a1\n"}}
	plain := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "plain"}, Data: map[string]string{"values.yaml": "b: b1\n"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "secret", Labels: labelled}, StringData: map[string]string{"values.yaml": "c: c1\n"}}
	signal := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "signal", Labels: labelled}, Data: map[string]string{"values.yaml": "s: s1\n"}}
	for _, o := range []client.Object{watched, plain, secret, signal} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	publishChart(t, ns, "chart", testChart{})
	hourly := func(from ...helmv1.ValuesReference) func(*helmv1.HelmRelease) {
		return func(hr *helmv1.HelmRelease) {
			hr.Spec.Interval = metav1.Duration{Duration: time.Hour}
			hr.Spec.ValuesFrom = from
		}
	}
	app := createHelmRelease(t, ns, "app", hourly(
		helmv1.ValuesReference{Kind: "ConfigMap", Name: "watched"},
		helmv1.ValuesReference{Kind: "ConfigMap", Name: "plain"},
		helmv1.ValuesReference{Kind: "Secret", Name: "secret"}))
	sig := createHelmRelease(t, ns, "sig", hourly(helmv1.ValuesReference{Kind: "ConfigMap", Name: "signal"}))
	waitReleased(t, app, helmv1.InstallSucceededReason, "1.0.0")
	waitReleased(t, sig, helmv1.InstallSucceededReason, "1.0.0")
	waitRendered(t, ns, "app", "a", `"a1"`)

	write := func(o client.Object) {
		t.Helper()
		if err := env.Client.Update(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	watched.Data["values.yaml"] = "a: a2\n"
	write(watched)
	waitRendered(t, ns, "app", "a", `"a2"`)

	secret.StringData = map[string]string{"values.yaml": "c: c2\n"}
	write(secret)
	waitRendered(t, ns, "app", "c", `"c2"`)

	plain.Data["values.yaml"] = "b: b2\n"
	write(plain)
	signal.Data["values.yaml"] = "s: s2\n"
	write(signal)
	waitRendered(t, ns, "sig", "s", `"s2"`)
	waitRendered(t, ns, "app", "b", `"b1"`)
	wantRevisions(t, ns, "app", "1:superseded", "2:superseded", "3:deployed")

	plain.Labels = labelled
	write(plain)
	waitRendered(t, ns, "app", "b", `"b2"`)
}
