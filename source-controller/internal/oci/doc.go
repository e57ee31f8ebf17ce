// Package oci pulls from OCI registries with oras-go: it resolves a reference (digest, SemVer
// range over the tags, or tag), fetches manifests and blobs with their digests verified and
// their sizes bounded, selects a layer, and reads registry credentials from Docker config
// JSON. Errors say which limit, digest or credential failed, never a credential.
package oci
