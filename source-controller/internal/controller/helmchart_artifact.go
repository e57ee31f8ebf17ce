package controller

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/source-controller/internal/chart"
)

// reconcileArtifact stores the packaged chart as `<name>-<version>.tgz`, records it and what it
// was built from (chart name, source revision, values files), collects old artifacts and
// announces a new version. It sets ArtifactInStorage, or StorageOperationFailed.
func (r *HelmChartReconciler) reconcileArtifact(ctx context.Context, sc *helmChartScope) error {
	obj := sc.obj
	if err := chart.ValidateName(sc.name); err != nil {
		return buildFailed(obj, err)
	}
	file := sc.name + "-" + sc.version + ".tgz"
	if strings.ContainsAny(sc.version, "/\\") {
		return buildFailed(obj, fmt.Errorf("chart version '%s' is not a valid file name", sc.version))
	}
	a := r.Storage.NewArtifact(sourcev1.HelmChartKind, obj.Namespace, obj.Name, sc.version, file)
	unlock := r.Storage.Lock(a)
	defer unlock()
	if err := r.Storage.WriteFile(&a, bytes.NewReader(sc.data)); err != nil {
		return storageFailed(obj, fmt.Errorf("storing chart '%s': %w", file, err))
	}
	msg := fmt.Sprintf("packaged '%s' chart with version '%s'", sc.name, sc.version)
	if len(sc.deps) > 0 {
		msg += fmt.Sprintf(" with dependencies %s", strings.Join(sc.deps, ", "))
	}
	recordArtifact(ctx, r.Storage, r.EventRecorder, obj, a, artifactRecord{
		SetStatus: func(a *meta.Artifact) {
			obj.Status.Artifact = a
			obj.Status.URL = a.URL
			obj.Status.ObservedChartName = sc.name
			obj.Status.ObservedValuesFiles = sc.valuesFiles
			obj.Status.ObservedSourceArtifactRevision = ""
			if sc.artifact != nil {
				obj.Status.ObservedSourceArtifactRevision = sc.artifact.Revision
			}
		},
		Message: msg,
	})
	return nil
}
