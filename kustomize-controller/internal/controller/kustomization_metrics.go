package controller

import (
	"github.com/fluxcd/cli-utils/pkg/object"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/metrics"
)

// countDrift adds the drift an apply corrected to weir_drift_corrections_total: one per object
// and field manager, as status.drift reports them (so at most maxDriftObjects entries a run).
func countDrift(drift []kustomizev1.DriftedObject) {
	for _, d := range drift {
		kind := "unknown"
		if id, err := object.ParseObjMetadata(d.ID); err == nil {
			kind = id.GroupKind.Kind
		}
		metrics.DriftCorrections.WithLabelValues(kind, d.Manager).Inc()
	}
}

// countPrunes adds the objects a prune deleted (or found gone) to weir_prune_total.
func countPrunes(deleted []*unstructured.Unstructured) {
	for _, o := range deleted {
		metrics.Prunes.WithLabelValues(o.GetKind()).Inc()
	}
}
