package testenv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Eventually calls f every 100ms until it returns nil, and fails the test with f's last error
// when timeout passes first.
func Eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	if err := poll(timeout, f); err != nil {
		t.Fatalf("after %s: %v", timeout, err)
	}
}

// Conditioned is an object with status conditions.
type Conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
}

// CheckCondition returns nil when obj has the condition typ with status, reason (any when
// empty) and a message containing msg (any when empty), and an error describing the mismatch.
func CheckCondition(obj Conditioned, typ string, status metav1.ConditionStatus, reason, msg string) error {
	c := apimeta.FindStatusCondition(obj.GetConditions(), typ)
	if c == nil {
		return fmt.Errorf("%s has no %s condition; conditions: %s", obj.GetName(), typ, describe(obj.GetConditions()))
	}
	if c.Status != status || (reason != "" && c.Reason != reason) || !strings.Contains(c.Message, msg) {
		return fmt.Errorf("%s: %s=%s reason %s message %q; want %s reason %q message containing %q",
			obj.GetName(), typ, c.Status, c.Reason, c.Message, status, reason, msg)
	}
	return nil
}

// ObjectIn is CheckCondition after getting obj afresh through e.
func (e *Environment) ObjectIn(obj Conditioned, typ string, status metav1.ConditionStatus, reason, msg string) func() error {
	return func() error {
		if err := e.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		return CheckCondition(obj, typ, status, reason, msg)
	}
}

// Events returns the Kubernetes Events about the object called name in namespace.
func (e *Environment) Events(t testing.TB, namespace, name string) []corev1.Event {
	t.Helper()
	var list corev1.EventList
	if err := e.Client.List(context.Background(), &list, client.InNamespace(namespace)); err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, ev := range list.Items {
		if ev.InvolvedObject.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

func describe(cs []metav1.Condition) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(parts, ", ")
}

// CreateWithStatus creates obj, then writes the status obj was given, as its controller would:
// for tests of what reads objects (the CLI, the UI) without running a controller.
func (e *Environment) CreateWithStatus(t testing.TB, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	status := obj.DeepCopyObject().(client.Object)
	if err := e.Client.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	status.SetResourceVersion(obj.GetResourceVersion())
	status.SetUID(obj.GetUID())
	status.SetCreationTimestamp(obj.GetCreationTimestamp())
	status.SetGeneration(obj.GetGeneration())
	if err := e.Client.Status().Update(ctx, status); err != nil {
		t.Fatal(err)
	}
	obj.SetResourceVersion(status.GetResourceVersion())
}
