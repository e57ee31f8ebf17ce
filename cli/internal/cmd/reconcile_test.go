package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

// fakeController stands in for a controller, since none runs in the test control plane: until
// the test ends it handles every reconcile request of the named object by copying the
// annotation into status.lastHandledReconcileAt, setting status.observedGeneration and the
// Ready condition that result returns. It returns a function counting the requests handled.
func fakeController(t *testing.T, kind, ns, name string, result func() metav1.Condition) func() int {
	t.Helper()
	k, err := objects.FindKind(kind)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	handled := make(chan struct{}, 100)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			u := k.New()
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
				continue
			}
			requested := u.GetAnnotations()[meta.ReconcileRequestAnnotation]
			if requested == "" || requested == objects.LastHandledReconcileAt(u) {
				continue
			}
			c := result()
			c.ObservedGeneration = u.GetGeneration()
			c.LastTransitionTime = metav1.Now()
			cond, err := runtimeToMap(&c)
			if err != nil {
				t.Errorf("fake controller: %v", err)
				return
			}
			_ = unstructured.SetNestedField(u.Object, requested, "status", "lastHandledReconcileAt")
			_ = unstructured.SetNestedField(u.Object, u.GetGeneration(), "status", "observedGeneration")
			_ = unstructured.SetNestedSlice(u.Object, []any{cond}, "status", "conditions")
			if err := env.Client.Status().Update(ctx, u); err != nil {
				t.Logf("fake controller: %v", err)
				continue
			}
			handled <- struct{}{}
		}
	}()
	return func() int { return len(handled) }
}

func readyTrue(msg string) func() metav1.Condition {
	return func() metav1.Condition {
		return metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason, Message: msg}
	}
}

func TestReconcileSucceeds(t *testing.T) {
	ns := env.Namespace(t)
	create(t, gitRepository(ns, "app", nil, "main@sha1:abc"))
	create(t, kustomization(ns, "apps", "app", nil, "main@sha1:abc"))
	sourceRequests := fakeController(t, "gitrepo", ns, "app", readyTrue("stored artifact"))
	requests := fakeController(t, "ks", ns, "apps", readyTrue("Applied revision: main@sha1:abc"))

	code, out, errOut := weir(t, "reconcile", "ks", "apps", "-n", ns, "--timeout", "20s")
	if code != 0 {
		t.Fatalf("code %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"► requested a reconcile of Kustomization " + ns + "/apps",
		"◎ waiting for kustomize-controller",
		"✔ Kustomization " + ns + "/apps is Ready: Applied revision: main@sha1:abc",
		"revision main@sha1:abc",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := requests(); n != 1 {
		t.Errorf("the Kustomization handled %d requests, want 1", n)
	}
	if n := sourceRequests(); n != 0 {
		t.Errorf("the source was reconciled without --with-source")
	}

	code, out, errOut = weir(t, "reconcile", "kustomization", "apps", "-n", ns, "--with-source", "--timeout", "20s")
	if code != 0 {
		t.Fatalf("--with-source: code %d, stderr %q\n%s", code, errOut, out)
	}
	src, ks := strings.Index(out, "✔ GitRepository "+ns+"/app is Ready"), strings.Index(out, "✔ Kustomization "+ns+"/apps is Ready")
	if src < 0 || ks < 0 || src > ks {
		t.Errorf("--with-source should reconcile the GitRepository, then the Kustomization:\n%s", out)
	}
}

func TestReconcileFails(t *testing.T) {
	ns := env.Namespace(t)
	create(t, kustomization(ns, "apps", "app", nil, ""))
	fakeController(t, "ks", ns, "apps", func() metav1.Condition {
		return metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: meta.HealthCheckFailedReason, Message: "Deployment/apps/web not ready"}
	})

	code, out, errOut := weir(t, "reconcile", "ks", "apps", "-n", ns, "--timeout", "20s")
	if code != 1 || !strings.Contains(errOut, "HealthCheckFailed: Deployment/apps/web not ready") || !strings.Contains(out, "✗ Kustomization "+ns+"/apps is not Ready") {
		t.Errorf("code %d, stdout:\n%s\nstderr %q", code, out, errOut)
	}
}

func TestReconcileErrors(t *testing.T) {
	ns := env.Namespace(t)
	create(t, kustomization(ns, "apps", "app", nil, ""))
	suspended := kustomization(ns, "paused", "app", nil, "")
	suspended.Spec.Suspend = true
	create(t, suspended)

	// No controller handles the request.
	code, _, errOut := weir(t, "reconcile", "ks", "apps", "-n", ns, "--timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "kustomize-controller did not handle the reconcile request") {
		t.Errorf("no controller: code %d, %q", code, errOut)
	}
	code, _, errOut = weir(t, "reconcile", "ks", "paused", "-n", ns)
	if code != 1 || !strings.Contains(errOut, "is suspended: resume it with `weir resume kustomization paused -n "+ns+"`") {
		t.Errorf("suspended: code %d, %q", code, errOut)
	}
	code, _, errOut = weir(t, "reconcile", "ks", "app", "-n", ns)
	if code != 1 || !strings.Contains(errOut, "did you mean apps?") {
		t.Errorf("missing: code %d, %q", code, errOut)
	}
	code, _, errOut = weir(t, "reconcile", "gitrepo", "x", "-n", ns, "--with-source")
	if code != 1 || !strings.Contains(errOut, `GitRepository "x" not found`) {
		t.Errorf("missing source: code %d, %q", code, errOut)
	}
	create(t, gitRepository(ns, "repo", nil, ""))
	code, _, errOut = weir(t, "reconcile", "gitrepo", "repo", "-n", ns, "--with-source")
	if code != 1 || !strings.Contains(errOut, "--with-source needs a Kustomization, a HelmRelease or a HelmChart") {
		t.Errorf("--with-source of a source: code %d, %q", code, errOut)
	}
}
