package manifests_test

import (
	"fmt"
	"testing"

	sourcev1 "weir.dev/api/source/v1"
)

const (
	minimalHelmChartSpec    = `{chart: podinfo, interval: 5m, sourceRef: {kind: HelmRepository, name: podinfo}}`
	chartPathMessage        = "spec.chart must be a relative path without '..' segments"
	chartNameMessage        = "spec.chart must be a chart name (no '/', not '.') when spec.sourceRef.kind is HelmRepository"
	chartVerifyMessage      = "spec.verify is only supported with a HelmRepository source"
	chartRevisionMessage    = "spec.reconcileStrategy Revision needs a GitRepository or OCIRepository source"
	chartValuesFilesMessage = "spec.valuesFiles paths must be relative and stay inside the source"
	chartValuesFileMessage  = "spec.valuesFile must be relative and stay inside the source"
	chartGitSource          = `sourceRef: {kind: GitRepository, name: repo}`
	chartOCISource          = `sourceRef: {kind: OCIRepository, name: repo}`
)

// TestHelmChartValidation: every OpenAPI and CEL rule of HelmChart rejects what it must,
// with a message naming the field, and lets valid specs through.
func TestHelmChartValidation(t *testing.T) {
	runSourceCases(t, sourcev1.HelmChartKind, minimalHelmChartSpec, []sourceCase{
		{"minimal spec", ``, ""},

		// chart, by source kind
		{"chart is required", `{chart: null}`, `spec.chart: Required value`},
		{"empty chart", `{chart: ""}`, `spec.chart: Invalid value: ""`},
		{"chart too long", fmt.Sprintf(`{chart: %s}`, sourceLongString(1025)), `spec.chart: Too long`},
		{"chart directory in a GitRepository", `{chart: ./charts/podinfo, ` + chartGitSource + `}`, ""},
		{"repository root as the chart", `{chart: ".", ` + chartGitSource + `}`, ""},
		{"packaged chart in an OCIRepository", `{chart: charts/podinfo-6.5.0.tgz, ` + chartOCISource + `}`, ""},
		{"chart escaping a GitRepository", `{chart: "charts/../../etc", ` + chartGitSource + `}`, chartPathMessage},
		{"absolute chart path in an OCIRepository", `{chart: /charts/podinfo, ` + chartOCISource + `}`, chartPathMessage},
		{"chart path in a HelmRepository", `{chart: stable/podinfo}`, chartNameMessage},
		{"dot as a HelmRepository chart", `{chart: "."}`, chartNameMessage},
		{"dot-dot as a HelmRepository chart", `{chart: ".."}`, chartPathMessage},

		// version
		{"version range", `{version: ">=6.0.0 <7.0.0"}`, ""},
		{"version too long", fmt.Sprintf(`{version: %s}`, sourceLongString(251)), `spec.version: Too long`},

		// sourceRef
		{"sourceRef is required", `{sourceRef: null}`, `spec.sourceRef: Required value`},
		{"sourceRef with apiVersion", `{sourceRef: {apiVersion: source.weir.dev/v1, kind: HelmRepository, name: podinfo}}`, ""},
		{"sourceRef to a Flux apiVersion", `{sourceRef: {apiVersion: source.toolkit.fluxcd.io/v1, kind: HelmRepository, name: podinfo}}`, `spec.sourceRef.apiVersion: Invalid value: "source.toolkit.fluxcd.io/v1"`},
		{"sourceRef without kind", `{sourceRef: {kind: null}}`, `spec.sourceRef.kind: Required value`},
		{"sourceRef to a Bucket", `{sourceRef: {kind: Bucket, name: podinfo}}`, `spec.sourceRef.kind: Unsupported value: "Bucket"`},
		{"sourceRef without name", `{sourceRef: {name: null}}`, `spec.sourceRef.name: Required value`},
		{"sourceRef with empty name", `{sourceRef: {kind: HelmRepository, name: ""}}`, `spec.sourceRef.name: Invalid value: ""`},
		{"sourceRef name too long", fmt.Sprintf(`{sourceRef: {kind: HelmRepository, name: %s}}`, sourceLongString(254)), `spec.sourceRef.name: Too long`},

		// interval and timeout
		{"interval is required", `{interval: null}`, `spec.interval: Required value`},
		{"interval in days", `{interval: 1d}`, `spec.interval: Invalid value: "1d"`},
		{"timeout", `{timeout: 5m}`, ""},
		{"timeout without unit", `{timeout: "60"}`, `spec.timeout: Invalid value: "60"`},

		// reconcileStrategy
		{"Revision strategy with a GitRepository", `{reconcileStrategy: Revision, chart: ./charts/podinfo, ` + chartGitSource + `}`, ""},
		{"Revision strategy with an OCIRepository", `{reconcileStrategy: Revision, chart: podinfo, ` + chartOCISource + `}`, ""},
		{"unknown strategy", `{reconcileStrategy: Always}`, `spec.reconcileStrategy: Unsupported value: "Always"`},
		{"Revision strategy with a HelmRepository", `{reconcileStrategy: Revision}`, chartRevisionMessage},

		// values files
		{"valuesFiles", `{valuesFiles: [values.yaml, ./env/prod/values.yaml], valuesFile: defaults.yaml, ignoreMissingValuesFiles: true}`, ""},
		{"valuesFiles escaping", `{valuesFiles: [values.yaml, "../secrets/values.yaml"]}`, chartValuesFilesMessage},
		{"absolute valuesFiles", `{valuesFiles: [/etc/values.yaml]}`, chartValuesFilesMessage},
		{"valuesFiles path too long", fmt.Sprintf(`{valuesFiles: [%s]}`, sourceLongString(1025)), `spec.valuesFiles[0]: Too long`},
		{"too many valuesFiles", fmt.Sprintf(`{valuesFiles: %s}`, sourceList(65, "values.yaml")), `spec.valuesFiles: Too many`},
		{"valuesFile escaping", `{valuesFile: "env/../../values.yaml"}`, chartValuesFileMessage},
		{"absolute valuesFile", `{valuesFile: /values.yaml}`, chartValuesFileMessage},
		{"valuesFile too long", fmt.Sprintf(`{valuesFile: %s}`, sourceLongString(1025)), `spec.valuesFile: Too long`},

		// verify
		{"verify with a HelmRepository", `{verify: {provider: cosign, secretRef: {name: cosign-pub}}}`, ""},
		{"verify with a GitRepository", `{verify: {provider: cosign}, chart: ./charts/podinfo, ` + chartGitSource + `}`, chartVerifyMessage},
		{"verify with an OCIRepository", `{verify: {provider: cosign}, ` + chartOCISource + `}`, chartVerifyMessage},
		{"verify notation without secretRef", `{verify: {provider: notation}}`, ociNotationNeedsSecret},
	})
}
