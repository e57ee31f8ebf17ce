// Package local runs Weir on an embedded local control plane: the real etcd and kube-apiserver
// from `make testbin`, Weir's CRDs, and the four controllers as separate processes that talk
// only through the API server, artifacts and events, exactly as in a cluster. With its demo it
// also serves a Git repository, applies it with two Kustomizations, prints the notifications
// an Alert sends, and offers a Receiver.
//
// Up starts it all and Env.Stop stops every process Up started, controllers first.
package local
