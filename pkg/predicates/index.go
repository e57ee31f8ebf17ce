package predicates

import (
	"context"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Scope says where RequestsByIndex looks for the objects to enqueue.
type Scope bool

const (
	// AllNamespaces lists across namespaces: the index key carries the namespace when a
	// reference may cross it.
	AllNamespaces Scope = false
	// SameNamespace lists only in the namespace of the object the event is about.
	SameNamespace Scope = true
)

// objectList is a pointer to a typed list (e.g. *sourcev1.GitRepositoryList).
type objectList[L any] interface {
	*L
	client.ObjectList
}

// RequestsByIndex returns the handler.MapFunc of a Watches: it maps the object o of an event
// to a request for each object of list kind L whose field index `index` holds key(o),
// listing through c (a cache on which the index is registered) within scope. A list error is
// logged with the index and the object, and maps to no requests; the objects are still
// reconciled at their interval.
func RequestsByIndex[L any, PL objectList[L]](c client.Reader, index string, key func(client.Object) string, scope Scope) handler.MapFunc {
	return RequestsByIndexOf(c, PL(new(L)), index, key, scope)
}

// RequestsByIndexOf is RequestsByIndex with the list kind given by an empty list, which it
// copies for every event.
func RequestsByIndexOf(c client.Reader, list client.ObjectList, index string, key func(client.Object) string, scope Scope) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		namespace := ""
		if scope == SameNamespace {
			namespace = o.GetNamespace()
		}
		return listByIndex(ctx, c, list.DeepCopyObject().(client.ObjectList), index, key(o), namespace,
			"object", client.ObjectKeyFromObject(o).String())
	}
}

// IndexRequests is RequestsByIndex for a key already known: the requests of the objects of
// list kind L whose field index holds key, in namespace (all namespaces when empty). A list
// error is logged with the index and the key, and gives no requests.
func IndexRequests[L any, PL objectList[L]](ctx context.Context, c client.Reader, index, key, namespace string) []reconcile.Request {
	return listByIndex(ctx, c, PL(new(L)), index, key, namespace, "key", key)
}

// listByIndex lists into list and returns a request for each item; about names what the list
// was for in a logged error.
func listByIndex(ctx context.Context, c client.Reader, list client.ObjectList, index, key, namespace string, about ...any) []reconcile.Request {
	opts := []client.ListOption{client.MatchingFields{index: key}}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := c.List(ctx, list, opts...); err != nil {
		log.FromContext(ctx).Error(err, "listing the objects to reconcile after a change", append([]any{"index", index}, about...)...)
		return nil
	}
	var reqs []reconcile.Request
	_ = apimeta.EachListItem(list, func(item runtime.Object) error {
		if obj, ok := item.(client.Object); ok {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
		}
		return nil
	})
	return reqs
}

// Name is the key of an index of references by name (in the referrer's namespace).
func Name(o client.Object) string { return o.GetName() }

// NamespacedName is the key of an index of references that may cross namespaces:
// `<namespace>/<name>`.
func NamespacedName(o client.Object) string { return o.GetNamespace() + "/" + o.GetName() }
