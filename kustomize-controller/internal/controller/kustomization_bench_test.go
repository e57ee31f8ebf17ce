package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// benchSet is one app of docs/benchmarks.md: ten ConfigMaps of 1 KiB, data.rev set to rev.
func benchSet(rev string) map[string]string {
	files := map[string]string{}
	payload := strings.Repeat("    "+strings.Repeat("p", 60)+"\n", 16)
	for i := range 10 {
		files[fmt.Sprintf("app/cm-%02d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\ndata:\n  rev: %q\n  payload: |\n%s", i, rev, payload)
	}
	return files
}

// benchReconcile runs the reconciler on an applied Kustomization of benchSet b.N times, the
// source at a new revision each time when newRevision is set, and reports the reconciles per
// second. mutate changes the tree between runs (nil: the same content).
func benchReconcile(b *testing.B, newRevision, driftCheck bool, mutate func(i int, files map[string]string)) {
	ns := env.Namespace(b)
	files := benchSet("0")
	publish(b, ns, "repo", "main@sha1:0", files)
	ks := createKustomization(b, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(b, ks, "main@sha1:0")
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ks)}
	i := 0
	for b.Loop() {
		if newRevision {
			b.StopTimer()
			i++
			if mutate != nil {
				mutate(i, files)
			}
			publish(b, ns, "repo", fmt.Sprintf("main@sha1:%d", i), files)
			b.StartTimer()
		}
		if driftCheck {
			b.StopTimer()
			if st := reconciler.applied.get(req.NamespacedName); st != nil {
				st.checkedAt = time.Time{} // as if the interval had passed
			}
			b.StartTimer()
		}
		if _, err := reconciler.Reconcile(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	if err := env.Client.Get(context.Background(), req.NamespacedName, ks); err != nil {
		b.Fatal(err)
	}
	if want := fmt.Sprintf("main@sha1:%d", i); ks.Status.LastAppliedRevision != want {
		b.Fatalf("lastAppliedRevision %s, want %s", ks.Status.LastAppliedRevision, want)
	}
}

// BenchmarkReconcileApplySet: every run applies a changed set of ten ConfigMaps (build, dry
// run, apply of all ten).
func BenchmarkReconcileApplySet(b *testing.B) {
	benchReconcile(b, true, false, func(i int, files map[string]string) {
		for k, v := range benchSet(fmt.Sprint(i)) {
			files[k] = v
		}
	})
}

// BenchmarkReconcileNewRevisionUnchanged: the source has a new revision that changes nothing
// of this Kustomization (another directory changed): the trace replays and the apply is skipped.
func BenchmarkReconcileNewRevisionUnchanged(b *testing.B) {
	benchReconcile(b, true, false, func(i int, files map[string]string) {
		files["other/cm.yaml"] = configMap("other", fmt.Sprint(i))
	})
}

// BenchmarkReconcileNoop: the interval comes round with nothing changed; the drift check reads
// the ten objects' metadata.
func BenchmarkReconcileNoop(b *testing.B) {
	benchReconcile(b, false, true, nil)
}
