package controller

import (
	"testing"

	helmv1 "weir.dev/api/helm/v1"
)

// manyTemplate renders .Values.count ConfigMaps.
const manyTemplate = `{{- range $i := until (int .Values.count) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: many-{{ $i }}
data: {a: b}
{{- end }}
`

// TestTooManyObjectsRefusedBeforeUpgrade: values that make the chart render more objects than
// the default --max-objects-per-unit stall the release with TooManyObjects, naming the count,
// the cap and the flag, and Helm neither records a revision nor changes an object.
func TestTooManyObjectsRefusedBeforeUpgrade(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{files: map[string]string{"values.yaml": "count: 1\n", "templates/many.yaml": manyTemplate}})
	hr := createHelmRelease(t, ns, "app", nil)
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"count": 5001, "changed": "yes"}`) })
	waitNotReady(t, hr, helmv1.TooManyObjectsReason,
		"chart demo@1.0.0: the rendered manifest holds 5002 objects, more than the 5000 allowed per HelmRelease (helm-controller --max-objects-per-unit)", true)
	wantRevisions(t, ns, "app", "1:deployed")
	if v := renderedValues(t, ns, "app"); v["changed"] != nil {
		t.Errorf("the refused upgrade changed the release's ConfigMap: %v", v)
	}
}

// TestTooManyObjectsRefusedBeforeInstall: the same refusal on a first install records nothing.
func TestTooManyObjectsRefusedBeforeInstall(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{files: map[string]string{"values.yaml": "count: 6000\n", "templates/many.yaml": manyTemplate}})
	hr := createHelmRelease(t, ns, "app", nil)
	waitNotReady(t, hr, helmv1.TooManyObjectsReason, "the rendered manifest holds 6001 objects, more than the 5000 allowed", true)
	wantRevisions(t, ns, "app")
	if v := renderedValues(t, ns, "app"); v != nil {
		t.Errorf("the refused install created the release's ConfigMap: %v", v)
	}
}
