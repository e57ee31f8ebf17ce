package meta

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Artifact is the output of a source reconciliation: a gzip tar archive (or a packaged chart)
// in source-controller's storage, served read-only over HTTP.
type Artifact struct {
	// Path is the artifact's path relative to the storage root.
	// +required
	Path string `json:"path"`

	// URL is the HTTP address the artifact is served at, on the advertised storage host.
	// +required
	URL string `json:"url"`

	// Revision is a human-readable identifier of the content: `<branch>@sha1:<commit>` for Git,
	// `<tag>@sha256:<digest>` for OCI, the chart version for a HelmChart.
	// +required
	Revision string `json:"revision"`

	// Digest is the digest of the file, in the form `<algorithm>:<hex>`.
	// +optional
	// +kubebuilder:validation:Pattern="^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"
	Digest string `json:"digest,omitempty"`

	// LastUpdateTime is when the artifact was last written, which is when its revision changed.
	// +required
	LastUpdateTime metav1.Time `json:"lastUpdateTime"`

	// Size is the number of bytes in the file.
	// +optional
	Size *int64 `json:"size,omitempty"`

	// Metadata holds upstream information such as OCI annotations or the commit message.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}

// HasRevision reports whether the artifact has the given revision.
func (in *Artifact) HasRevision(revision string) bool {
	return in != nil && in.Revision == revision
}

// HasDigest reports whether the artifact has the given digest.
func (in *Artifact) HasDigest(digest string) bool {
	return in != nil && in.Digest == digest
}
