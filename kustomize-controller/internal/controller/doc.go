// Package controller holds kustomize-controller's reconcilers: Kustomization (build a source's
// artifact with kustomize and apply it server-side) and ResourceSet (render templates over
// inputs into objects and roll them out).
//
// Kustomization, in the order of its steps:
//   - kustomization_controller.go: setup (watches, field indexes) and Reconcile;
//   - kustomization_source.go: the scope the steps share, and the source's artifact;
//   - kustomization_dependencies.go: spec.dependsOn;
//   - kustomization_skip.go: the shortcut when nothing the build reads changed;
//   - kustomization_apply.go: build, apply and health steps;
//   - kustomization_waves.go and kustomization_hooks.go: waves and hooks inside one apply;
//   - kustomization_approval.go and kustomization_syncwindows.go: the approval gate and the
//     sync windows between build and apply;
//   - kustomization_ownership.go and kustomization_handover.go: one object, one owner;
//   - kustomization_prune.go: which objects are stale and how they are deleted;
//   - kustomization_wait.go and kustomization_progress.go: health waits and what they report;
//   - kustomization_inventory.go, kustomization_drift.go, kustomization_origin.go: the
//     inventory, drift events, and the file and line an applied object came from;
//   - kustomization_identity.go: impersonation and remote clusters;
//   - kustomization_delete.go: spec.deletionPolicy at deletion;
//   - kustomization_status.go: conditions, Ready and the result;
//   - kustomization_watch.go: watched ConfigMaps and Secrets; priority.go: the queue
//     priority of source fan-out.
//
// ResourceSet: resourceset_controller.go (setup, Reconcile), resourceset_render.go,
// resourceset_steps.go, resourceset_rollout.go, resourceset_prune.go, resourceset_status.go.
// rbac.go holds the ClusterRole's markers.
package controller
