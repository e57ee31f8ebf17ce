// Package deploy holds Weir's install manifests, the kustomize bases users apply with
// `kubectl apply -k deploy/`, embedded so that `weir install` renders the very same files
// outside the repository. Go files here are not manifests; kustomize reads only what
// kustomization.yaml lists.
package deploy

import "embed"

// FS is this directory: kustomization.yaml and the files and folders it lists, the CRDs, and
// the optional components under components/.
//
//go:embed *.yaml crds source-controller kustomize-controller helm-controller notification-controller components
var FS embed.FS

// Components are the optional components under components/, by folder name, in the order an
// overlay must list them: lockdown patches the controllers that sharding adds. monitoring
// needs the Prometheus Operator's CRDs.
var Components = []string{"sharding", "lockdown", "large", "monitoring"}
