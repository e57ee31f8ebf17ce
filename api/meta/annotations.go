package meta

const (
	// ReconcileRequestAnnotation asks for a reconcile now when set to any new value;
	// the value handled is echoed in status.lastHandledReconcileAt.
	ReconcileRequestAnnotation = "reconcile.weir.dev/requestedAt"

	// WatchLabel on a Secret or ConfigMap, with the value WatchLabelEnabled, makes changes to it
	// trigger the objects that reference it.
	WatchLabel = "reconcile.weir.dev/watch"
	// WatchLabelEnabled is the value of WatchLabel that enables watching.
	WatchLabelEnabled = "Enabled"

	// ShardKeyLabel on a Weir object selects the controller shard that reconciles it
	// (matched by --watch-label-selector).
	ShardKeyLabel = "sharding.weir.dev/key"
)

// ReconcileAnnotationValue returns the value of the reconcile-request annotation, if any.
func ReconcileAnnotationValue(annotations map[string]string) (string, bool) {
	v, ok := annotations[ReconcileRequestAnnotation]
	return v, ok
}

// Finalizer is the finalizer every Weir controller puts on the objects it reconciles, so it can
// clean up (artifacts, applied objects, releases) before they go.
const Finalizer = "weir.dev/finalizer"

// LegacyFinalizer is the finalizer's name before Weir 0.2, which the API server warns about on
// every write (a finalizer name needs a path). The controllers replace it with Finalizer on
// objects that still carry it, and honour it on objects being deleted.
const LegacyFinalizer = "finalizers.weir.dev"

// Keys of the metadata events carry to notification-controller.
const (
	// RevisionEventKey is the source revision the event is about, e.g. `main@sha1:<commit>`.
	RevisionEventKey = "revision"
	// CommitMessageEventKey is the first line of the commit message, when known.
	CommitMessageEventKey = "commit"
)
