package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// TestDriftReverted: a `kubectl edit` of an applied ConfigMap and Secret is reverted at the next
// reconcile and reported, in a Drift event and in status.drift, with the fields and the field
// manager that wrote them and never the Secret's values; a change made in Git is not drift.
func TestDriftReverted(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	secret := func(pw string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {password: " + pw + "}\n"
	}
	extra := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {a: '1', b: '2'}\n"
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/cm.yaml": configMap("settings", "from-git"), "app/secret.yaml": secret("git-s3cret"), "app/extra.yaml": extra})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")

	// A Git change is applied, not reported as drift.
	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/cm.yaml": configMap("settings", "from-git-2"), "app/secret.yaml": secret("git-s3cret"), "app/extra.yaml": extra})
	waitApplied(t, ks, "main@sha1:2")
	waitConfigMap(t, ns, "settings", "from-git-2")
	if len(ks.Status.Drift) > 0 || len(driftEvents(t, ns)) > 0 {
		t.Fatalf("a change from Git reported as drift: %+v", ks.Status.Drift)
	}

	// Someone edits the cluster.
	var cm corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["value"] = "edited"
	if err := env.Client.Update(ctx, &cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	var s corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "creds"}, &s); err != nil {
		t.Fatal(err)
	}
	s.Data["password"] = []byte("hand-s3cret")
	if err := env.Client.Update(ctx, &s, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	// A removed field leaves no owner behind: it is drift because the desired set is the one
	// last applied, by a manager nobody can name.
	var ex corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "extra"}, &ex); err != nil {
		t.Fatal(err)
	}
	delete(ex.Data, "b")
	if err := env.Client.Update(ctx, &ex, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, ks)
	waitConfigMap(t, ns, "settings", "from-git-2")
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ks), ks); err != nil {
			return err
		}
		if len(ks.Status.Drift) != 3 {
			return fmt.Errorf("status.drift %+v, want the two ConfigMaps and the Secret", ks.Status.Drift)
		}
		return nil
	})
	want := map[string][2]string{
		ns + "_settings__ConfigMap": {".data.value", "kubectl-edit"},
		ns + "_creds__Secret":       {".data.password", "kubectl-edit"},
		ns + "_extra__ConfigMap":    {".data.b", "unknown"},
	}
	for _, d := range ks.Status.Drift {
		if w := want[d.ID]; strings.Join(d.Fields, ",") != w[0] || d.Manager != w[1] || d.DetectedAt.IsZero() {
			t.Errorf("drift entry %+v; want fields %q by %s", d, w[0], w[1])
		}
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "creds"}, &s); err != nil || string(s.Data["password"]) != "git-s3cret" {
		t.Errorf("the Secret was not reverted: %v", err)
	}

	events := driftEvents(t, ns)
	if len(events) != 1 {
		t.Fatalf("want one Drift event, got %d", len(events))
	}
	msg := events[0].Message
	for _, part := range []string{"app/cm.yaml:1: ConfigMap/" + ns + "/settings: .data.value (by kubectl-edit)", "app/secret.yaml:1: Secret/" + ns + "/creds: .data.password (by kubectl-edit)"} {
		if !strings.Contains(msg, part) {
			t.Errorf("Drift event %q does not say %q", msg, part)
		}
	}
	for _, leaked := range []string{"s3cret", "edited"} {
		if strings.Contains(msg, leaked) || strings.Contains(fmt.Sprint(ks.Status.Drift), leaked) {
			t.Errorf("the drift report leaks a value (%q): %s", leaked, msg)
		}
	}
}

func driftEvents(t *testing.T, ns string) []corev1.Event {
	t.Helper()
	var out []corev1.Event
	for _, ev := range env.Events(t, ns, "app") {
		if ev.Reason == kustomizev1.DriftDetectedReason {
			out = append(out, ev)
		}
	}
	return out
}

// requestReconcile sets the reconcile-request annotation, as `weir reconcile` does.
func requestReconcile(t *testing.T, obj client.Object) {
	t.Helper()
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[meta.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	obj.SetAnnotations(ann)
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
}
