package controller

import (
	"fmt"
	"strings"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

// helmRepositoryKind is what the shared reconcile skeleton needs to know of HelmRepository.
var helmRepositoryKind = &sourceKind[*sourcev1.HelmRepository]{
	kind:     sourcev1.HelmRepositoryKind,
	negative: []string{sourcev1.FetchFailedCondition, sourcev1.StorageOperationFailedCondition},
	positive: []string{sourcev1.ArtifactInStorageCondition},
	ready:    helmRepositoryReady,
}

// helmRepositoryReady is Ready's reason and message after a successful run.
func helmRepositoryReady(o *sourcev1.HelmRepository) (string, string) {
	if o.Spec.Type == sourcev1.HelmRepositoryTypeOCI {
		host, _, _ := strings.Cut(strings.TrimPrefix(o.Spec.URL, "oci://"), "/")
		return meta.SucceededReason, fmt.Sprintf("registry '%s' is reachable with the given credentials", host)
	}
	return meta.SucceededReason, artifactMessage(o.Status.Artifact)
}
