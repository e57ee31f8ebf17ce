package manifests_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
)

// notificationCase is one object sent to the API server: rejected with an error containing every
// string in wantErr, or accepted when wantErr is empty.
type notificationCase struct {
	name    string
	obj     client.Object
	wantErr []string
}

// runNotificationCases dry-runs the creation of each case's object in a fresh namespace.
func runNotificationCases(t *testing.T, cases []notificationCase) {
	t.Helper()
	ns := env.Namespace(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tc.obj.SetNamespace(ns)
			tc.obj.SetName("case")
			err := env.Client.Create(ctx, tc.obj, client.DryRunAll)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("want accepted, got: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want rejected with %q, got accepted", tc.wantErr)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got: %v", err)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
		})
	}
}

func notifDuration(s string) *metav1.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return &metav1.Duration{Duration: d}
}

// notifWithField returns obj as unstructured with the field at path set to value, for values
// the typed API cannot hold (a duration in days, a number where a string belongs).
func notifWithField(obj client.Object, value any, path ...string) *unstructured.Unstructured {
	gvks, _, err := env.Scheme.ObjectKinds(obj)
	if err != nil {
		panic(err)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvks[0])
	if err := unstructured.SetNestedField(u.Object, value, path...); err != nil {
		panic(err)
	}
	return u
}

func notifSecret(name string) *meta.LocalObjectReference {
	return &meta.LocalObjectReference{Name: name}
}

// TestNotificationKindsCreateWithDefaults creates each kind for real from a minimal spec and
// checks the defaults the schema fills in.
func TestNotificationKindsCreateWithDefaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := env.Namespace(t)
	key := client.ObjectKey{Namespace: ns, Name: "minimal"}

	t.Run("Provider", func(t *testing.T) {
		p := &notificationv1.Provider{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: key.Name},
			Spec:       notificationv1.ProviderSpec{Type: notificationv1.SlackProvider, SecretRef: notifSecret("slack")},
		}
		if err := env.Client.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		var got notificationv1.Provider
		if err := env.Client.Get(ctx, key, &got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.Interval == nil || got.Spec.Interval.Duration != 10*time.Minute {
			t.Errorf("spec.interval = %v, want 10m", got.Spec.Interval)
		}
		if got.Spec.Timeout == nil || got.Spec.Timeout.Duration != 15*time.Second {
			t.Errorf("spec.timeout = %v, want 15s", got.Spec.Timeout)
		}
		if got.Status.ObservedGeneration != -1 {
			t.Errorf("status.observedGeneration = %d, want -1", got.Status.ObservedGeneration)
		}
	})

	t.Run("Alert", func(t *testing.T) {
		a := &notificationv1.Alert{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: key.Name},
			Spec: notificationv1.AlertSpec{
				ProviderRef:  meta.LocalObjectReference{Name: "minimal"},
				EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "Kustomization", Name: "*"}},
			},
		}
		if err := env.Client.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
		var got notificationv1.Alert
		if err := env.Client.Get(ctx, key, &got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.EventSeverity != notificationv1.EventSeverityInfo {
			t.Errorf("spec.eventSeverity = %q, want info", got.Spec.EventSeverity)
		}
		if got.Spec.Interval == nil || got.Spec.Interval.Duration != 10*time.Minute {
			t.Errorf("spec.interval = %v, want 10m", got.Spec.Interval)
		}
		if got.Status.ObservedGeneration != -1 {
			t.Errorf("status.observedGeneration = %d, want -1", got.Status.ObservedGeneration)
		}
	})

	t.Run("Receiver", func(t *testing.T) {
		r := &notificationv1.Receiver{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: key.Name},
			Spec: notificationv1.ReceiverSpec{
				Type:      notificationv1.GitHubReceiver,
				Resources: []notificationv1.CrossNamespaceObjectReference{{Kind: "GitRepository", Name: "app"}},
				SecretRef: meta.LocalObjectReference{Name: "webhook-token"},
			},
		}
		if err := env.Client.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		var got notificationv1.Receiver
		if err := env.Client.Get(ctx, key, &got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.Interval == nil || got.Spec.Interval.Duration != 10*time.Minute {
			t.Errorf("spec.interval = %v, want 10m", got.Spec.Interval)
		}
		if got.Status.ObservedGeneration != -1 {
			t.Errorf("status.observedGeneration = %d, want -1", got.Status.ObservedGeneration)
		}
	})
}
