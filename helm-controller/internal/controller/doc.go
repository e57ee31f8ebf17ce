// Package controller holds helm-controller's reconciler of HelmRelease: it makes a HelmRelease's
// chart (from a HelmChart it creates from spec.chart, or spec.chartRef) and values a Helm
// release in the cluster. It first observes the release's state, then runs one action (see
// internal/release for the actions and the decision table).
//
// Files, in the order of the steps:
//   - helmrelease_controller.go: setup (watches, field indexes) and Reconcile;
//     helmrelease_predicates.go: which changes of a chart source trigger the releases;
//   - helmrelease_scope.go: the scope the steps share; helmrelease_spec.go: checks of the spec;
//   - helmrelease_chart.go: the chart's HelmChart and artifact; helmrelease_values.go: values;
//   - helmrelease_refuse.go: charts refused before install (values schemas);
//   - helmrelease_approval.go and helmrelease_syncwindows.go: the approval gate and sync
//     windows before an install or upgrade;
//   - helmrelease_release.go: observe the state and pick the next action;
//     helmrelease_actions.go: the install/upgrade options; helmrelease_adopt.go: releases
//     that exist before their first attempt;
//   - helmrelease_helmtest.go: Helm tests (spec.test) after an install or upgrade;
//   - helmrelease_remediate.go: what follows a failed action; helmrelease_drift.go: drift;
//   - helmrelease_progress.go: status written before a long action;
//   - helmrelease_client.go: the Helm client acting as the release's identity;
//   - helmrelease_delete.go: uninstall at deletion;
//   - helmrelease_status.go: conditions, history, Ready and the result;
//   - helmrelease_watch.go: watched ConfigMaps and Secrets; rbac.go: the ClusterRole's markers.
package controller
