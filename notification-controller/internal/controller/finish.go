package controller

import (
	"fmt"
	"time"

	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/pkg/app"
	"weir.dev/pkg/steps"
)

// ControllerName is the field owner of status patches and the reporting controller of events.
const ControllerName = "notification-controller"

// ownedConditions are the conditions the reconcilers set; the patch helper overwrites them.
var ownedConditions = []string{meta.ReadyCondition, meta.ReconcilingCondition, meta.StalledCondition}

// dependencyRequeue is how soon an object waiting for a dependency is checked again, besides
// the watch that triggers it when the dependency changes.
const dependencyRequeue = 30 * time.Second

// frame is the shared reconcile with the options of the notification kinds: they hold nothing
// outside their own object, so they need no finalizer; their spec.suspend stops delivery, not
// their checks; and a success that makes one Ready is announced with a normal event.
func frame[O steps.Object](c client.Client, rec events.AnnotatedEventRecorder, iv *app.Intervals) steps.Frame[O] {
	return steps.Frame[O]{
		Reader: c, Client: c, FieldOwner: ControllerName, OwnedConditions: ownedConditions,
		NoFinalizer: true, RunWhileSuspended: true, Recorder: rec, Intervals: iv,
	}
}

// refuseCrossNamespace stalls with AccessDenied, naming the entry of field, when a reference
// names another namespace than own; callers use it while cross-namespace references are refused.
func refuseCrossNamespace(field, own string, refs []notificationv1.CrossNamespaceObjectReference) error {
	for i, ref := range refs {
		if ref.Namespace != "" && ref.Namespace != own {
			return steps.Stalled(meta.AccessDeniedReason, fmt.Errorf(
				"%s[%d].namespace '%s' is another namespace and cross-namespace references are disabled", field, i, ref.Namespace))
		}
	}
	return nil
}
