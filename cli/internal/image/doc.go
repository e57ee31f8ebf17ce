// Package image builds Weir's controller images without a container daemon, and publishes them.
//
// Build compiles the requested controllers with one `go build` per platform from the
// workspace root, and assembles each image FROM scratch in Go: a base layer (passwd and group
// with the nonroot user 65532, nsswitch.conf, a CA bundle, /tmp and /home/nonroot) shared by
// every image, and a layer holding the static binary. Everything that goes into an image comes
// from the commit and the Go module proxy, never from the host, and every time, owner and mode
// is fixed: the same commit gives the same digests on any machine with the same Go toolchain.
//
// The result, a Set of multi-platform image indexes, is then pushed to a registry (Push),
// written as an OCI image layout (WriteLayout), or as one OCI archive per image for
// air-gapped clusters (WriteArchive).
package image
