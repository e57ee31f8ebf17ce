package controller

import (
	"fmt"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/steps"
)

// Reasons of a chart refused before any action (Ready=False, Stalled=True; a new chart
// artifact or spec retries).
// TODO(api): move to api/helm/v1/condition_types.go with the other reasons.
const (
	// ValuesSchemaRefusedReason: a values.schema.json of the chart refers outside itself, is
	// too large or invalid; Helm would read files or send requests for it.
	ValuesSchemaRefusedReason = "ValuesSchemaRefused"
	// CRDsRefusedReason: the chart's crds/ holds an object that is not a CRD, or replacing a
	// CRD would drop a version objects are stored at.
	CRDsRefusedReason = "CRDsRefused"
)

// refuseChart stalls with ValuesSchemaRefusedReason when the values schemas of the chart
// cannot be validated without loading other documents (see release.CheckSchemas), unless the
// action skips schema validation. Nothing has been applied or requested then. It sets no
// condition.
func refuseChart(sc *hrScope, action helmv1.ReleaseAction) error {
	if schemaValidationDisabled(sc.obj, action) {
		return nil
	}
	if err := release.CheckSchemas(sc.chart); err != nil {
		return steps.Stalled(ValuesSchemaRefusedReason, fmt.Errorf("chart %s: %w", sc.chartRef(), err))
	}
	return nil
}

// schemaValidationDisabled reports spec.install's or spec.upgrade's disableSchemaValidation.
func schemaValidationDisabled(obj *helmv1.HelmRelease, action helmv1.ReleaseAction) bool {
	if action == helmv1.ReleaseActionInstall {
		return obj.Spec.Install != nil && obj.Spec.Install.DisableSchemaValidation
	}
	return obj.Spec.Upgrade != nil && obj.Spec.Upgrade.DisableSchemaValidation
}
