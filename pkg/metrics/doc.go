// Package metrics holds the Prometheus metrics every Weir controller exports on
// controller-runtime's registry (sigs.k8s.io/controller-runtime/pkg/metrics.Registry), served on
// --metrics-addr next to controller-runtime's own (workqueue, reconcile totals, Go runtime).
//
// The per-object metrics keep Flux's names and labels with the prefix weir_ instead of gotk_
// (fluxcd/pkg/runtime/metrics), so Flux dashboards and alert rules port by renaming the prefix:
//
//	weir_reconcile_condition{kind,name,namespace,type,status}  1 for the status a condition has
//	weir_suspend_status{kind,name,namespace}                   1 while spec.suspend is set
//	weir_reconcile_duration_seconds{kind,name,namespace}       histogram of reconcile durations
//
// ObserveReconcile records them at the end of every reconcile of steps.Frame and removes an
// object's series once it is gone. The counters are what Flux lacks: drift corrections, prunes,
// artifact downloads and cache use, Helm actions, notification deliveries and receiver requests.
// docs/observability.md lists them all.
package metrics
