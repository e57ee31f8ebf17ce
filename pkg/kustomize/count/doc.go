// Package count counts the Kubernetes objects in a YAML or JSON stream without building them,
// so a caller can refuse an oversized set before kustomize or Helm works on it.
package count
