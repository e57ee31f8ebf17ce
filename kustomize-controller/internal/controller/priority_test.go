package controller

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// A Kustomization's own event is handled before the fan-out of a source revision queued
// earlier, and an item already queued by the fan-out moves up when its own event comes.
func TestFanOutQueuedBelowOwnEvents(t *testing.T) {
	q := priorityqueue.New[reconcile.Request]("test")
	defer q.ShutDown()
	req := func(name string) reconcile.Request {
		return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}}
	}
	fanOut := fanOut(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{req("a"), req("b"), req("c")}
	}, func(reconcile.Request) int { return fanOutPriority })
	old := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "src", ResourceVersion: "1"}}
	updated := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "src", ResourceVersion: "2"}}
	fanOut.Update(context.Background(), event.UpdateEvent{ObjectOld: old, ObjectNew: updated}, q)
	// Their own events: c (already queued) and d (new).
	q.Add(req("c"))
	q.Add(req("d"))
	var order []string
	for range 4 {
		item, _ := q.Get()
		order = append(order, item.Name)
		q.Done(item)
	}
	if order[0] != "c" || order[1] != "d" {
		t.Errorf("order %v: want c and d, with their own events, before the fan-out's a and b", order)
	}
}

// A Kustomization requested recently keeps priority 0 in a fan-out; its request, not another one,
// and not forever.
func TestRecentRequestPriority(t *testing.T) {
	var r recentRequests
	a := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "a"}}
	b := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "b"}}
	r.saw(a.NamespacedName, "")
	if r.priority(a) != fanOutPriority {
		t.Error("no request, yet priority")
	}
	r.saw(a.NamespacedName, "t1")
	if r.priority(a) != 0 || r.priority(b) != fanOutPriority {
		t.Errorf("priorities a %d b %d, want 0 and %d", r.priority(a), r.priority(b), fanOutPriority)
	}
	// The same token seen again later does not restart the window.
	v, _ := r.m.Load(a.NamespacedName)
	r.m.Store(a.NamespacedName, requestSeen{token: "t1", at: v.(requestSeen).at.Add(-requestedWindow)})
	r.saw(a.NamespacedName, "t1")
	if r.priority(a) != fanOutPriority {
		t.Error("an old request still gives priority")
	}
	r.saw(a.NamespacedName, "t2")
	if r.priority(a) != 0 {
		t.Error("a new request gives no priority")
	}
}

// A fan-out holding a requested Kustomization lets it start alone; the rest follow after
// headStart.
func TestFanOutHeadStart(t *testing.T) {
	q := priorityqueue.New[reconcile.Request]("test")
	defer q.ShutDown()
	req := func(name string) reconcile.Request {
		return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}}
	}
	h := fanOut(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{req("a"), req("b"), req("c")}
	}, func(r reconcile.Request) int {
		if r.Name == "b" {
			return 0
		}
		return fanOutPriority
	})
	src := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "src", ResourceVersion: "1"}}
	h.Create(context.Background(), event.CreateEvent{Object: src}, q)
	start := time.Now()
	if n := q.Len(); n != 1 {
		t.Fatalf("%d items ready at once, want only the requested one", n)
	}
	first, _ := q.Get()
	q.Done(first)
	if first.Name != "b" {
		t.Fatalf("first %s, want b", first.Name)
	}
	second, _ := q.Get()
	q.Done(second)
	if waited := time.Since(start); waited < headStart/2 {
		t.Errorf("the rest of the fan-out came after %s, want about %s", waited, headStart)
	}
}
