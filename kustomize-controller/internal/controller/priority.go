package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// headStart is how long the rest of a fan-out waits when it holds requested Kustomizations:
// they run first on an API server not yet busy with hundreds of status updates (at 500
// Kustomizations those took the requested run from about one second to six).
const headStart = time.Second

// fanOut enqueues the Kustomizations mapped from a source's event: those requested within
// requestedWindow at priority 0, the rest at fanOutPriority, after headStart when there were
// requested ones. Without a priority queue it enqueues them all at once.
func fanOut(mapFn handler.MapFunc, priority func(reconcile.Request) int) handler.EventHandler {
	enqueue := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
		seen := map[reconcile.Request]bool{}
		var urgent, rest []reconcile.Request
		for _, o := range objs {
			if o == nil {
				continue
			}
			for _, req := range mapFn(ctx, o) {
				if seen[req] {
					continue
				}
				seen[req] = true
				if priority(req) >= 0 {
					urgent = append(urgent, req)
				} else {
					rest = append(rest, req)
				}
			}
		}
		pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request])
		if !ok {
			for _, req := range append(urgent, rest...) {
				q.Add(req)
			}
			return
		}
		if len(urgent) > 0 {
			pq.AddWithOpts(priorityqueue.AddOpts{Priority: new(0)}, urgent...)
		}
		if len(rest) > 0 {
			o := priorityqueue.AddOpts{Priority: new(fanOutPriority)}
			if len(urgent) > 0 {
				o.After = headStart
			}
			pq.AddWithOpts(o, rest...)
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
	}
}
