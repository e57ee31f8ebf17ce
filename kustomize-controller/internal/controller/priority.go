package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

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

// requestedWindow is how long after a reconcile request a Kustomization's fan-out runs keep
// priority 0. A Receiver annotates the source and the Kustomization at once, so the
// Kustomization's own run usually sees the old revision, and the one that matters is the
// fan-out run when the new artifact arrives a moment later.
const requestedWindow = 2 * time.Minute

// recentRequests remembers when each Kustomization last got a new reconcile request.
type recentRequests struct{ m sync.Map } // types.NamespacedName → requestSeen

type requestSeen struct {
	token string
	at    time.Time
}

// saw records token as key's current request, timing it from its first sighting.
func (r *recentRequests) saw(key types.NamespacedName, token string) {
	if token == "" {
		return
	}
	if v, ok := r.m.Load(key); ok && v.(requestSeen).token == token {
		return
	}
	r.m.Store(key, requestSeen{token: token, at: time.Now()})
}

func (r *recentRequests) forget(key types.NamespacedName) { r.m.Delete(key) }

// priority is fanOutPriority, or 0 for a Kustomization requested within requestedWindow.
func (r *recentRequests) priority(req reconcile.Request) int {
	if v, ok := r.m.Load(req.NamespacedName); ok && time.Since(v.(requestSeen).at) < requestedWindow {
		return 0
	}
	return fanOutPriority
}

// withPriority enqueues h's requests at priority p(request) when the controller's queue has
// priorities (controller-runtime's default); an item already queued keeps the higher of two.
func withPriority(p func(reconcile.Request) int, h handler.EventHandler) handler.EventHandler {
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

// prioritized adds each item at its priority unless the adder names one.
type prioritized struct {
	priorityqueue.PriorityQueue[reconcile.Request]
	priority func(reconcile.Request) int
}

func (q prioritized) Add(item reconcile.Request) { q.AddWithOpts(priorityqueue.AddOpts{}, item) }

func (q prioritized) AddAfter(item reconcile.Request, after time.Duration) {
	q.AddWithOpts(priorityqueue.AddOpts{After: after}, item)
}

func (q prioritized) AddRateLimited(item reconcile.Request) {
	q.AddWithOpts(priorityqueue.AddOpts{RateLimited: true}, item)
}

func (q prioritized) AddWithOpts(o priorityqueue.AddOpts, items ...reconcile.Request) {
	if o.Priority != nil {
		q.PriorityQueue.AddWithOpts(o, items...)
		return
	}
	for _, item := range items {
		p := q.priority(item)
		o.Priority = &p
		q.PriorityQueue.AddWithOpts(o, item)
	}
}
