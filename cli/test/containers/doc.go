// Package containers runs Weir as a cluster runs it, and its demo through it: the release
// images built by cli/internal/image, pushed to a registry on 127.0.0.1 and pulled by podman,
// run as containers (runc, read-only root, uid 65532) with the arguments of the Deployments
// that `weir install --export` renders for another namespace than weir-system, each
// authenticated with a token of its own ServiceAccount, so that the RBAC of deploy/ is what
// the tests exercise. See local.Containers for what is simulated (no kubelet, no Services).
package containers
