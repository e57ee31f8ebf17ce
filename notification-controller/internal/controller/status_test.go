package controller

import (
	"errors"
	"testing"

	"github.com/fluxcd/pkg/runtime/conditions"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/pkg/steps"
)

var (
	success = steps.Classify(nil, meta.FailedReason)
	stalled = steps.Classify(steps.Stalled(notificationv1.TokenNotFoundReason, errors.New("secret 'w' has no 'token' key")), meta.FailedReason)
	waiting = steps.Classify(steps.Waiting(meta.DependencyNotReadyReason, dependencyRequeue, errors.New("Provider 'p' not found")), meta.FailedReason)
	failed  = steps.Classify(errors.New("etcd timeout"), meta.FailedReason)
)

// want is the status a status function must leave.
type want struct {
	ready       metav1.ConditionStatus
	reason, msg string
	stalled     bool
	reconciling bool
	webhookPath string
}

func check(t *testing.T, obj interface {
	conditions.Getter
}, w want) {
	t.Helper()
	ready := conditions.Get(obj, meta.ReadyCondition)
	if ready == nil || ready.Status != w.ready || ready.Reason != w.reason || ready.Message != w.msg {
		t.Fatalf("Ready = %+v, want %s %s %q", ready, w.ready, w.reason, w.msg)
	}
	if got := conditions.Has(obj, meta.StalledCondition); got != w.stalled {
		t.Errorf("Stalled present = %v, want %v", got, w.stalled)
	}
	if got := conditions.Has(obj, meta.ReconcilingCondition); got != w.reconciling {
		t.Errorf("Reconciling present = %v, want %v", got, w.reconciling)
	}
}

func objectMeta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: "x", Namespace: "ns", Generation: 3,
		Annotations: map[string]string{meta.ReconcileRequestAnnotation: "now"}}
}

func TestProviderStatus(t *testing.T) {
	cases := []struct {
		name    string
		suspend bool
		o       steps.Outcome
		want    want
	}{
		{"ready", false, success, want{ready: "True", reason: meta.SucceededReason, msg: "Provider is ready"}},
		{"ready and suspended", true, success, want{ready: "True", reason: meta.SucceededReason,
			msg: "Provider is ready but suspended: events routed to it are dropped"}},
		{"token missing", false, stalled, want{ready: "False", reason: notificationv1.TokenNotFoundReason,
			msg: "secret 'w' has no 'token' key", stalled: true}},
		{"transient", false, failed, want{ready: "False", reason: meta.FailedReason, msg: "etcd timeout", reconciling: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &notificationv1.Provider{ObjectMeta: objectMeta()}
			p.Spec.Suspend = tc.suspend
			p.Status.ObservedGeneration = 1
			conditions.MarkStalled(p, "Old", "earlier")
			if tc.o.Kind == steps.Succeeded || tc.o.Kind == steps.Transient {
				conditions.MarkReconciling(p, "Old", "earlier")
			}
			applyProviderStatus(p, tc.o)
			check(t, p, tc.want)
		})
	}
}

func TestAlertStatus(t *testing.T) {
	cases := []struct {
		name    string
		suspend bool
		o       steps.Outcome
		want    want
	}{
		{"ready", false, success, want{ready: "True", reason: meta.SucceededReason, msg: "Alert forwards to Provider 'slack'"}},
		{"suspended", true, success, want{ready: "True", reason: meta.SucceededReason,
			msg: "Alert is valid but suspended: matching events are dropped"}},
		{"provider missing", false, waiting, want{ready: "False", reason: meta.DependencyNotReadyReason,
			msg: "Provider 'p' not found", reconciling: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &notificationv1.Alert{ObjectMeta: objectMeta()}
			a.Spec.ProviderRef.Name = "slack"
			a.Spec.Suspend = tc.suspend
			a.Status.ObservedGeneration = 1
			applyAlertStatus(a, tc.o)
			check(t, a, tc.want)
		})
	}
}

func TestReceiverStatus(t *testing.T) {
	cases := []struct {
		name string
		o    steps.Outcome
		want want
	}{
		{"ready publishes the path", success, want{ready: "True", reason: meta.SucceededReason, msg: "Receiver is ready at status.webhookPath", webhookPath: "/hook/new"}},
		{"a stall withdraws the path", stalled, want{ready: "False", reason: notificationv1.TokenNotFoundReason,
			msg: "secret 'w' has no 'token' key", stalled: true}},
		{"a transient failure keeps the path", failed, want{ready: "False", reason: meta.FailedReason, msg: "etcd timeout",
			reconciling: true, webhookPath: "/hook/old"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &notificationv1.Receiver{ObjectMeta: objectMeta()}
			r.Status.ObservedGeneration = 1
			r.Status.WebhookPath = "/hook/old"
			applyReceiverStatus(r, tc.o, "/hook/new")
			check(t, r, tc.want)
			if r.Status.WebhookPath != tc.want.webhookPath {
				t.Errorf("webhookPath = %q, want %q", r.Status.WebhookPath, tc.want.webhookPath)
			}
		})
	}
}
