// Package controller holds source-controller's reconcilers. Each turns a source kind into an
// artifact in Storage (a gzip tar, or a chart or index file, with its digest), served over HTTP
// to the other controllers, and records it in status.artifact.
//
// The four source kinds share one skeleton (source_reconcile.go: steps.Frame, removing the
// kind's artifacts on deletion, summarising the outcome) and one artifact tail
// (source_artifact.go: recordArtifact). Each kind's files:
//
//   - GitRepository: gitrepository_controller.go (setup, steps), gitrepository_source.go
//     (validation, auth, remote, checkout), gitrepository_include.go (spec.include),
//     gitrepository_mirrors.go (worktrees kept between revisions), gitrepository_artifact.go,
//     gitrepository_status.go.
//   - OCIRepository: ocirepository_controller.go, ocirepository_pull.go (resolve, verify, pull,
//     archive), ocirepository_status.go.
//   - HelmRepository: helmrepository_controller.go, helmrepository_index.go (index fetch and
//     normalisation, or the oci registry check), helmrepository_status.go.
//   - HelmChart: helmchart_controller.go, helmchart_source.go, helmchart_build.go (pull or
//     package), helmchart_dependencies.go, helmchart_values.go, helmchart_artifact.go,
//     helmchart_status.go.
//   - ArtifactGenerator: artifactgenerator_controller.go, artifactgenerator_steps.go,
//     artifactgenerator_copy.go (the copy operations), artifactgenerator_external.go (the
//     ExternalArtifacts it owns and publishes).
//
// Shared by several kinds: credentials.go (Secrets to credentials and TLS), helm_clients.go,
// provider.go (spec.provider), verification.go (cosign), source_verify.go (a stored artifact
// checked against its digest before reuse), rbac.go (the ClusterRole's markers).
package controller
