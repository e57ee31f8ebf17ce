package controller

import (
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// indexArtifactFile is the storage file name of an index with digest `sha256:<hex>`.
func indexArtifactFile(digest string) string {
	hex := strings.TrimPrefix(digest, "sha256:")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return "index-" + hex + ".yaml"
}

// ociRevision is `<tag>@<digest>`, or the digest alone when the reference was a digest.
func ociRevision(tag string, desc ocispec.Descriptor) string {
	if tag == "" {
		return desc.Digest.String()
	}
	return tag + "@" + desc.Digest.String()
}

// ociMetadata keeps the manifest's `org.opencontainers.image.*` annotations for the artifact's
// metadata, each value cut to 256 bytes.
func ociMetadata(annotations map[string]string) map[string]string {
	md := map[string]string{}
	for k, v := range annotations {
		if !strings.HasPrefix(k, "org.opencontainers.image.") {
			continue
		}
		if len(v) > 256 {
			v = v[:256]
		}
		md[k] = v
	}
	if len(md) == 0 {
		return nil
	}
	return md
}
