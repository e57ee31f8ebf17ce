package configwatch

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"weir.dev/api/meta"
)

// IndexField is the field index, on a controller's own kind, of the ConfigMaps and Secrets an
// object references, as Keys.
const IndexField = ".metadata.configRefs"

// Kinds of the objects watched.
const (
	ConfigMapKind = "ConfigMap"
	SecretKind    = "Secret"
)

// Key is the index key of the ConfigMap or Secret (kind) namespace/name.
func Key(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// Selector selects the labelled ConfigMaps and Secrets: reconcile.weir.dev/watch=Enabled.
func Selector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{meta.WatchLabel: meta.WatchLabelEnabled})
}

// CacheOptions restricts the manager's cache of ConfigMaps and Secrets to the labelled ones
// (cache.Options.ByObject). A controller that uses it must read ConfigMaps and Secrets
// straight from the API server (an APIReader), never through the cached client.
func CacheOptions() map[client.Object]cache.ByObject {
	sel := Selector()
	return map[client.Object]cache.ByObject{
		&corev1.ConfigMap{}: {Label: sel},
		&corev1.Secret{}:    {Label: sel},
	}
}

// Users returns the requests of the objects whose index IndexField holds key.
type Users func(ctx context.Context, key string) []reconcile.Request

// Watch adds to b metadata-only watches of labelled ConfigMaps and Secrets that enqueue their
// users: on creation (a labelled object appears, or the cache starts), on every change of the
// object (a new resourceVersion: its data, its labels) and on deletion.
func Watch(b *builder.Builder, users Users) *builder.Builder {
	for kind, obj := range map[string]client.Object{ConfigMapKind: &corev1.ConfigMap{}, SecretKind: &corev1.Secret{}} {
		b = b.WatchesMetadata(obj, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return users(ctx, Key(kind, o.GetNamespace(), o.GetName()))
		}), builder.WithPredicates(Labelled(), changed{}))
	}
	return b
}

// Labelled passes objects that carry reconcile.weir.dev/watch=Enabled, now or (for an update
// that removed the label) before. The cache of CacheOptions holds no others; this also holds
// when a manager was built without it.
func Labelled() predicate.Predicate {
	sel := Selector()
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return sel.Matches(labels.Set(e.Object.GetLabels())) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return sel.Matches(labels.Set(e.Object.GetLabels())) },
		GenericFunc: func(e event.GenericEvent) bool { return sel.Matches(labels.Set(e.Object.GetLabels())) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return sel.Matches(labels.Set(e.ObjectNew.GetLabels())) || sel.Matches(labels.Set(e.ObjectOld.GetLabels()))
		},
	}
}

// changed drops the updates of a resync, which change nothing.
type changed struct{ predicate.Funcs }

func (changed) Update(e event.UpdateEvent) bool {
	return e.ObjectOld.GetResourceVersion() != e.ObjectNew.GetResourceVersion()
}
