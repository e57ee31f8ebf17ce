package metrics

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

// TestObserveReconcile: the gauges follow the conditions (absent Stalled and Reconciling are
// False, absent Ready Unknown) and spec.suspend; an object that could not be read keeps its
// series, one found gone loses them.
func TestObserveReconcile(t *testing.T) {
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "apps", Name: "web"}}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web", Finalizers: []string{meta.Finalizer}}}
	ks.Spec.Suspend = true
	ks.Status.Conditions = []metav1.Condition{{Type: meta.StalledCondition, Status: metav1.ConditionTrue}}
	ObserveReconcile(context.Background(), req, ks, time.Now(), nil)

	gauge := func(typ, status string) float64 {
		return testutil.ToFloat64(reconcileCondition.WithLabelValues("Kustomization", "web", "apps", typ, status))
	}
	for _, c := range []struct {
		typ, status string
		want        float64
	}{
		{"Ready", "Unknown", 1}, {"Ready", "True", 0}, {"Ready", "False", 0},
		{"Stalled", "True", 1}, {"Stalled", "False", 0},
		{"Reconciling", "False", 1}, {"Reconciling", "True", 0},
	} {
		if got := gauge(c.typ, c.status); got != c.want {
			t.Errorf("%s=%s: %v, want %v", c.typ, c.status, got, c.want)
		}
	}
	if got := testutil.ToFloat64(suspendStatus.WithLabelValues("Kustomization", "web", "apps")); got != 1 {
		t.Errorf("suspended: %v, want 1", got)
	}

	// Not read because the API server failed: nothing changes.
	failed := errors.New("connection refused")
	ObserveReconcile(context.Background(), req, &kustomizev1.Kustomization{}, time.Now(), &failed)
	if n := testutil.CollectAndCount(reconcileCondition); n != 9 {
		t.Fatalf("%d condition series after a failed read, want 9", n)
	}
	// Not found: gone.
	var none error
	ObserveReconcile(context.Background(), req, &kustomizev1.Kustomization{}, time.Now(), &none)
	if n := testutil.CollectAndCount(reconcileCondition) + testutil.CollectAndCount(suspendStatus) + testutil.CollectAndCount(reconcileDuration); n != 0 {
		t.Fatalf("%d series left of a deleted object", n)
	}
}

func TestRevisionOf(t *testing.T) {
	ks := &kustomizev1.Kustomization{}
	ks.Status.LastAppliedRevision = "main@sha1:1"
	ks.Status.LastAttemptedRevision = "main@sha1:2"
	repo := &sourcev1.GitRepository{}
	repo.Status.Artifact = &meta.Artifact{Revision: "main@sha1:3"}
	for obj, want := range map[Object]string{ks: "main@sha1:2", repo: "main@sha1:3", &sourcev1.GitRepository{}: ""} {
		if got := revisionOf(obj); got != want {
			t.Errorf("%T: %q, want %q", obj, got, want)
		}
	}
}

func TestRequestOutcome(t *testing.T) {
	for code, want := range map[int]string{200: RequestAccepted, 401: RequestRejected, 404: RequestRejected, 413: RequestRejected,
		429: RequestThrottled, 503: RequestThrottled, 500: RequestFailed} {
		if got := RequestOutcome(code); got != want {
			t.Errorf("%d: %s, want %s", code, got, want)
		}
	}
}
