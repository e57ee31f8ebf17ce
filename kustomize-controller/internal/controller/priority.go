package controller

import (
	"context"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// fanOutPriority is the queue priority of the Kustomizations a new source revision triggers:
// below a Kustomization's own events (priority 0: a reconcile request, a spec change), above
// the periodic resyncs (handler.LowPriority). A new revision may trigger hundreds of
// Kustomizations at once; the one a Receiver or `weir reconcile` asked for goes first.
const fanOutPriority = -1

// withPriority enqueues h's requests at priority p when the controller's queue has priorities
// (controller-runtime's default); an item already queued keeps the higher of the two.
func withPriority(p int, h handler.EventHandler) handler.EventHandler {
	wrap := func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
		if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
			return prioritized{PriorityQueue: pq, priority: p}
		}
		return q
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Create(ctx, e, wrap(q))
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Update(ctx, e, wrap(q))
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Delete(ctx, e, wrap(q))
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Generic(ctx, e, wrap(q))
		},
	}
}

// prioritized adds every item at one priority unless the adder names its own.
type prioritized struct {
	priorityqueue.PriorityQueue[reconcile.Request]
	priority int
}

func (q prioritized) Add(item reconcile.Request) {
	q.PriorityQueue.AddWithOpts(priorityqueue.AddOpts{Priority: &q.priority}, item)
}

func (q prioritized) AddAfter(item reconcile.Request, after time.Duration) {
	q.PriorityQueue.AddWithOpts(priorityqueue.AddOpts{Priority: &q.priority, After: after}, item)
}

func (q prioritized) AddRateLimited(item reconcile.Request) {
	q.PriorityQueue.AddWithOpts(priorityqueue.AddOpts{Priority: &q.priority, RateLimited: true}, item)
}

func (q prioritized) AddWithOpts(o priorityqueue.AddOpts, items ...reconcile.Request) {
	if o.Priority == nil {
		o.Priority = &q.priority
	}
	q.PriorityQueue.AddWithOpts(o, items...)
}
