package controller

import (
	"fmt"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/pkg/helm/render"
	"weir.dev/pkg/steps"
)

// refuseChart stalls with helmv1.ValuesSchemaRefusedReason when the values schemas of the chart
// cannot be validated without loading other documents (see render.CheckSchemas), unless the
// action skips schema validation. Nothing has been applied or requested then. It sets no
// condition.
func refuseChart(sc *hrScope, action helmv1.ReleaseAction) error {
	if schemaValidationDisabled(sc.obj, action) {
		return nil
	}
	if err := render.CheckSchemas(sc.chart); err != nil {
		return steps.Stalled(helmv1.ValuesSchemaRefusedReason, fmt.Errorf("chart %s: %w", sc.chartRef(), err))
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
