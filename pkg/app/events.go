package app

import (
	"github.com/fluxcd/pkg/runtime/events"
	ctrl "sigs.k8s.io/controller-runtime"
)

// EventRecorder returns the controller's event recorder: it writes Kubernetes Events and, when
// --events-addr is set, POSTs each event as JSON to notification-controller.
func (o *Options) EventRecorder(mgr ctrl.Manager, name string) (events.Recorder, error) {
	return events.NewRecorder(mgr.GetLogger().WithName("events"), o.EventsAddr, name, events.WithManager(mgr))
}
