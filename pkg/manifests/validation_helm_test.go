package manifests_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
)

const (
	minimalHelmReleaseSpec = `{interval: 5m, chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}}`
	hrChartOrRefMessage    = "spec: exactly one of chart and chartRef must be set"
	hrChartNameMessage     = "spec.chart.spec.chart must be a chart name (no '/', not '.') when sourceRef.kind is HelmRepository"
	hrChartPathMessage     = "spec.chart.spec.chart must be a relative path without '..' segments"
	hrValuesFilesMessage   = "spec.chart.spec.valuesFiles paths must be relative and stay inside the source"
	hrDependsOnAPIMessage  = "spec.dependsOn: apiVersion must be helm.weir.dev/v1 for a HelmRelease and kustomize.weir.dev/v1 for a Kustomization"
	hrStrategyMessage      = "strategy.retryInterval can only be set when strategy.name is RetryOnFailure"
)

// TestHelmReleaseValidation: every OpenAPI and CEL rule of HelmRelease rejects what it must,
// with a message naming the field, and lets valid specs through.
func TestHelmReleaseValidation(t *testing.T) {
	runDeliveryCases(t, helmv1.GroupVersion.String(), helmv1.HelmReleaseKind, minimalHelmReleaseSpec, []deliveryCase{
		{"minimal spec", ``, ""},
		{"every optional field", `{
			releaseName: podinfo, targetNamespace: web, storageNamespace: helm, timeout: 10m, maxHistory: 10,
			serviceAccountName: deployer, persistentClient: false, suspend: true,
			kubeConfig: {secretRef: {name: remote}},
			dependsOn: [{name: db}, {kind: Kustomization, apiVersion: kustomize.weir.dev/v1, name: infra, namespace: flux}],
			driftDetection: {mode: warn, ignore: [{paths: [/spec/replicas, "/metadata/annotations/a~1b"], target: {kind: Deployment}}]},
			install: {timeout: 5m, strategy: {name: RetryOnFailure, retryInterval: 2m}, remediation: {retries: -1, ignoreTestFailures: true, remediateLastFailure: true},
				disableWait: true, disableWaitForJobs: true, disableHooks: true, disableOpenAPIValidation: true, disableSchemaValidation: true,
				disableTakeOwnership: true, replace: true, crds: CreateReplace, createNamespace: true},
			upgrade: {timeout: 5m, strategy: {name: RemediateOnFailure}, remediation: {retries: 3, strategy: uninstall},
				disableWait: true, disableWaitForJobs: true, disableHooks: true, disableOpenAPIValidation: true, disableSchemaValidation: true,
				disableTakeOwnership: true, force: true, preserveValues: true, cleanupOnFail: true, crds: Skip},
			test: {enable: true, timeout: 2m, ignoreFailures: true, filters: [{name: smoke}, {name: slow, exclude: true}]},
			rollback: {timeout: 2m, disableWait: true, disableWaitForJobs: true, disableHooks: true, recreate: true, force: true, cleanupOnFail: true},
			uninstall: {timeout: 2m, disableHooks: true, keepHistory: true, disableWait: true, deletionPropagation: foreground},
			valuesFrom: [{kind: ConfigMap, name: defaults}, {kind: Secret, name: creds, valuesKey: password, targetPath: "auth.users[0].password", optional: true}],
			values: {replicaCount: 2, ingress: {enabled: true, hosts: [{host: example.com}]}},
			postRenderers: [{kustomize: {patches: [{patch: "x", target: {kind: Service}}], images: [{name: podinfo, newTag: "6.7.0"}]}}],
			commonMetadata: {labels: {team: web}}}`, ""},

		// chart and chartRef
		{"chart and chartRef", `{chartRef: {kind: OCIRepository, name: podinfo}}`, hrChartOrRefMessage},
		{"neither chart nor chartRef", `{chart: null}`, hrChartOrRefMessage},
		{"chartRef OCIRepository", `{chart: null, chartRef: {kind: OCIRepository, name: podinfo, namespace: flux, apiVersion: source.weir.dev/v1}}`, ""},
		{"chartRef HelmChart", `{chart: null, chartRef: {kind: HelmChart, name: podinfo}}`, ""},
		{"chartRef GitRepository", `{chart: null, chartRef: {kind: GitRepository, name: podinfo}}`, `spec.chartRef.kind: Unsupported value: "GitRepository"`},
		{"chartRef Flux apiVersion", `{chart: null, chartRef: {kind: HelmChart, name: podinfo, apiVersion: source.toolkit.fluxcd.io/v1}}`, `spec.chartRef.apiVersion: Invalid value`},
		{"chartRef without name", `{chart: null, chartRef: {kind: HelmChart}}`, `spec.chartRef.name: Required value`},

		// chart template
		{"chart without spec", `{chart: {spec: null, metadata: {labels: {a: b}}}}`, `spec.chart.spec: Required value`},
		{"chart name required", `{chart: {spec: {chart: null}}}`, `spec.chart.spec.chart: Required value`},
		{"chart path from HelmRepository", `{chart: {spec: {chart: charts/podinfo}}}`, hrChartNameMessage},
		{"chart path from GitRepository", `{chart: {spec: {chart: ./charts/podinfo, sourceRef: {kind: GitRepository}}}}`, ""},
		{"chart from OCIRepository", `{chart: {spec: {chart: ., sourceRef: {kind: OCIRepository, namespace: flux}}}}`, ""},
		{"chart path escaping", `{chart: {spec: {chart: "charts/../../x", sourceRef: {kind: GitRepository}}}}`, hrChartPathMessage},
		{"absolute chart path", `{chart: {spec: {chart: /charts/podinfo, sourceRef: {kind: GitRepository}}}}`, hrChartPathMessage},
		{"chart sourceRef Bucket", `{chart: {spec: {sourceRef: {kind: Bucket}}}}`, `spec.chart.spec.sourceRef.kind: Unsupported value: "Bucket"`},
		{"chart sourceRef without name", `{chart: {spec: {sourceRef: {name: null}}}}`, `spec.chart.spec.sourceRef.name: Required value`},
		{"chart version too long", fmt.Sprintf(`{chart: {spec: {version: %s}}}`, deliveryLong(251)), `spec.chart.spec.version: Too long`},
		{"chart interval in days", `{chart: {spec: {interval: 1d}}}`, `spec.chart.spec.interval: Invalid value: "1d"`},
		{"reconcileStrategy Revision from Git", `{chart: {spec: {chart: ./charts/podinfo, sourceRef: {kind: GitRepository}, reconcileStrategy: Revision}}}`, ""},
		{"reconcileStrategy Revision from HelmRepository", `{chart: {spec: {reconcileStrategy: Revision}}}`, "spec.chart.spec.reconcileStrategy Revision needs a GitRepository or OCIRepository source"},
		{"reconcileStrategy unknown", `{chart: {spec: {reconcileStrategy: Latest}}}`, `spec.chart.spec.reconcileStrategy: Unsupported value: "Latest"`},
		{"verify from HelmRepository", `{chart: {spec: {verify: {provider: notation, secretRef: {name: trust}}}}}`, ""},
		{"verify from GitRepository", `{chart: {spec: {chart: ./charts/podinfo, sourceRef: {kind: GitRepository}, verify: {provider: cosign}}}}`, "spec.chart.spec.verify is only supported with a HelmRepository source (of type oci)"},
		{"verify provider pgp", `{chart: {spec: {verify: {provider: pgp}}}}`, `spec.chart.spec.verify.provider: Unsupported value: "pgp"`},
		{"valuesFiles", `{chart: {spec: {valuesFiles: [values.yaml, ./env/prod.yaml], ignoreMissingValuesFiles: true}}}`, ""},
		{"valuesFiles escaping", `{chart: {spec: {valuesFiles: [values.yaml, "../secrets.yaml"]}}}`, hrValuesFilesMessage},
		{"too many valuesFiles", fmt.Sprintf(`{chart: {spec: {valuesFiles: %s}}}`, deliveryList(65, "v.yaml")), `spec.chart.spec.valuesFiles: Too many`},

		// interval and timeouts
		{"interval is required", `{interval: null}`, `spec.interval: Required value`},
		{"interval in days", `{interval: 1d}`, `spec.interval: Invalid value: "1d"`},
		{"timeout without unit", `{timeout: "300"}`, `spec.timeout: Invalid value: "300"`},
		{"install timeout in days", `{install: {timeout: 1d}}`, `spec.install.timeout: Invalid value: "1d"`},
		{"upgrade timeout in days", `{upgrade: {timeout: 1d}}`, `spec.upgrade.timeout: Invalid value: "1d"`},
		{"test timeout in days", `{test: {timeout: 1d}}`, `spec.test.timeout: Invalid value: "1d"`},
		{"rollback timeout in days", `{rollback: {timeout: 1d}}`, `spec.rollback.timeout: Invalid value: "1d"`},
		{"uninstall timeout in days", `{uninstall: {timeout: 1d}}`, `spec.uninstall.timeout: Invalid value: "1d"`},

		// names and namespaces
		{"releaseName with dots", `{releaseName: podinfo.web}`, ""},
		{"releaseName upper case", `{releaseName: PodInfo}`, `spec.releaseName: Invalid value: "PodInfo"`},
		{"releaseName too long", fmt.Sprintf(`{releaseName: %s}`, deliveryLong(54)), `spec.releaseName: Too long`},
		{"releaseName empty", `{releaseName: ""}`, `spec.releaseName: Invalid value: ""`},
		{"targetNamespace with a dot", `{targetNamespace: web.eu}`, `spec.targetNamespace: Invalid value: "web.eu"`},
		{"targetNamespace too long", fmt.Sprintf(`{targetNamespace: %s}`, deliveryLong(64)), `spec.targetNamespace: Too long`},
		{"storageNamespace upper case", `{storageNamespace: Helm}`, `spec.storageNamespace: Invalid value: "Helm"`},
		{"serviceAccountName upper case", `{serviceAccountName: Deployer}`, `spec.serviceAccountName: Invalid value: "Deployer"`},
		{"maxHistory unlimited", `{maxHistory: 0}`, ""},
		{"maxHistory negative", `{maxHistory: -1}`, `spec.maxHistory: Invalid value: -1`},

		// dependsOn
		{"dependsOn Flux-style", `{dependsOn: [{name: db, namespace: data}]}`, ""},
		{"dependsOn a Kustomization", `{dependsOn: [{kind: Kustomization, name: infra}]}`, ""},
		{"dependsOn a GitRepository", `{dependsOn: [{kind: GitRepository, name: repo}]}`, `spec.dependsOn[0].kind: Unsupported value: "GitRepository"`},
		{"dependsOn apiVersion of another kind", `{dependsOn: [{kind: Kustomization, apiVersion: helm.weir.dev/v1, name: infra}]}`, hrDependsOnAPIMessage},
		{"dependsOn Flux apiVersion", `{dependsOn: [{apiVersion: helm.toolkit.fluxcd.io/v2, name: db}]}`, hrDependsOnAPIMessage},
		{"dependsOn without name", `{dependsOn: [{kind: HelmRelease}]}`, `spec.dependsOn[0].name: Required value`},
		{"dependsOn itself", fmt.Sprintf(`{dependsOn: [{name: %s}]}`, deliveryObjectName), "spec.dependsOn: a HelmRelease cannot depend on itself"},
		{"dependsOn itself with kind", fmt.Sprintf(`{dependsOn: [{kind: HelmRelease, name: %s}]}`, deliveryObjectName), "spec.dependsOn: a HelmRelease cannot depend on itself"},
		{"dependsOn a Kustomization of the same name", fmt.Sprintf(`{dependsOn: [{kind: Kustomization, name: %s}]}`, deliveryObjectName), ""},
		{"too many dependsOn", fmt.Sprintf(`{dependsOn: %s}`, deliveryList(65, "{name: db}")), `spec.dependsOn: Too many`},

		// driftDetection
		{"driftDetection disabled", `{driftDetection: {mode: disabled}}`, ""},
		{"driftDetection mode on", `{driftDetection: {mode: "on"}}`, `spec.driftDetection.mode: Unsupported value: "on"`},
		{"ignore rule without paths", `{driftDetection: {ignore: [{target: {kind: Deployment}}]}}`, `spec.driftDetection.ignore[0].paths: Required value`},
		{"ignore rule with no path", `{driftDetection: {ignore: [{paths: []}]}}`, `spec.driftDetection.ignore[0].paths: Invalid value`},
		{"ignore path not a JSON pointer", `{driftDetection: {ignore: [{paths: [spec/replicas]}]}}`, `spec.driftDetection.ignore[0].paths[0]: Invalid value: "spec/replicas"`},
		{"ignore path with a bad escape", `{driftDetection: {ignore: [{paths: ["/metadata/a~2b"]}]}}`, `spec.driftDetection.ignore[0].paths[0]: Invalid value`},
		{"too many ignore rules", fmt.Sprintf(`{driftDetection: {ignore: %s}}`, deliveryList(65, "{paths: [/spec]}")), `spec.driftDetection.ignore: Too many`},

		// install and upgrade
		{"install crds unknown", `{install: {crds: Always}}`, `spec.install.crds: Unsupported value: "Always"`},
		{"install skipCRDs with crds Create", `{install: {skipCRDs: true, crds: Create}}`, "spec.install.skipCRDs conflicts with spec.install.crds; use crds: Skip"},
		{"install skipCRDs with crds Skip", `{install: {skipCRDs: true, crds: Skip}}`, ""},
		{"install strategy unknown", `{install: {strategy: {name: Ignore}}}`, `spec.install.strategy.name: Unsupported value: "Ignore"`},
		{"install strategy without name", `{install: {strategy: {retryInterval: 1m}}}`, `spec.install.strategy.name: Required value`},
		{"install retryInterval with remediation", `{install: {strategy: {name: RemediateOnFailure, retryInterval: 1m}}}`, hrStrategyMessage},
		{"install retryInterval in days", `{install: {strategy: {name: RetryOnFailure, retryInterval: 1d}}}`, `spec.install.strategy.retryInterval: Invalid value: "1d"`},
		{"upgrade retryInterval with remediation", `{upgrade: {strategy: {name: RemediateOnFailure, retryInterval: 1m}}}`, hrStrategyMessage},
		{"upgrade remediation strategy rollback", `{upgrade: {remediation: {strategy: rollback}}}`, ""},
		{"upgrade remediation strategy unknown", `{upgrade: {remediation: {strategy: delete}}}`, `spec.upgrade.remediation.strategy: Unsupported value: "delete"`},
		{"upgrade crds unknown", `{upgrade: {crds: Replace}}`, `spec.upgrade.crds: Unsupported value: "Replace"`},

		// test, uninstall
		{"test filter without name", `{test: {filters: [{exclude: true}]}}`, `spec.test.filters[0].name: Required value`},
		{"too many test filters", fmt.Sprintf(`{test: {filters: %s}}`, deliveryList(129, "{name: t}")), `spec.test.filters: Too many`},
		{"uninstall deletionPropagation unknown", `{uninstall: {deletionPropagation: cascade}}`, `spec.uninstall.deletionPropagation: Unsupported value: "cascade"`},

		// valuesFrom
		{"valuesFrom Namespace", `{valuesFrom: [{kind: Namespace, name: v}]}`, `spec.valuesFrom[0].kind: Unsupported value: "Namespace"`},
		{"valuesFrom without name", `{valuesFrom: [{kind: Secret}]}`, `spec.valuesFrom[0].name: Required value`},
		{"valuesFrom key with a space", `{valuesFrom: [{kind: Secret, name: v, valuesKey: "my values"}]}`, `spec.valuesFrom[0].valuesKey: Invalid value: "my values"`},
		{"valuesFrom targetPath with a space", `{valuesFrom: [{kind: Secret, name: v, targetPath: "a b"}]}`, `spec.valuesFrom[0].targetPath: Invalid value: "a b"`},
		{"too many valuesFrom", fmt.Sprintf(`{valuesFrom: %s}`, deliveryList(65, "{kind: Secret, name: v}")), `spec.valuesFrom: Too many`},

		// postRenderers and commonMetadata
		{"post-renderer image without a rewrite", `{postRenderers: [{kustomize: {images: [{name: podinfo}]}}]}`, ksImageMessage},
		{"post-renderer patch without text", `{postRenderers: [{kustomize: {patches: [{target: {kind: Service}}]}}]}`, `spec.postRenderers[0].kustomize.patches[0].patch: Required value`},
		{"too many post-renderers", fmt.Sprintf(`{postRenderers: %s}`, deliveryList(17, "{kustomize: {}}")), `spec.postRenderers: Too many`},
		{"too many common labels", fmt.Sprintf(`{commonMetadata: {labels: {%s}}}`, ksManyKeys(65)), `spec.commonMetadata.labels: Too many`},
	})
}

// TestHelmReleaseCreateWithDefaults creates HelmReleases for real and checks the defaults the
// schema fills in, that values round-trip untouched, and the Revision column `kubectl get` prints.
func TestHelmReleaseCreateWithDefaults(t *testing.T) {
	ns := env.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	create := func(t *testing.T, hr *helmv1.HelmRelease) *helmv1.HelmRelease {
		t.Helper()
		hr.Namespace = ns
		if err := env.Client.Create(ctx, hr); err != nil {
			t.Fatalf("creating a HelmRelease: %v", err)
		}
		var got helmv1.HelmRelease
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hr), &got); err != nil {
			t.Fatal(err)
		}
		return &got
	}
	chart := &helmv1.HelmChartTemplate{Spec: helmv1.HelmChartTemplateSpec{
		Chart:     "podinfo",
		SourceRef: helmv1.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "podinfo"},
	}}

	t.Run("minimal", func(t *testing.T) {
		got := create(t, &helmv1.HelmRelease{
			ObjectMeta: metav1.ObjectMeta{Name: "minimal"},
			Spec:       helmv1.HelmReleaseSpec{Interval: metav1.Duration{Duration: 10 * time.Minute}, Chart: chart.DeepCopy()},
		})
		if got.Spec.Timeout == nil || got.Spec.Timeout.Duration != 5*time.Minute {
			t.Errorf("spec.timeout = %v, want 5m", got.Spec.Timeout)
		}
		if got.Spec.MaxHistory == nil || *got.Spec.MaxHistory != helmv1.DefaultMaxHistory {
			t.Errorf("spec.maxHistory = %v, want %d", got.Spec.MaxHistory, helmv1.DefaultMaxHistory)
		}
		if got.Spec.DriftDetection == nil || got.Spec.DriftDetection.Mode != helmv1.DriftDetectionEnabled {
			t.Errorf("spec.driftDetection = %+v, want mode enabled (Weir's default)", got.Spec.DriftDetection)
		}
		if v := got.Spec.Chart.Spec.Version; v != "*" {
			t.Errorf("spec.chart.spec.version = %q, want *", v)
		}
		if s := got.Spec.Chart.Spec.ReconcileStrategy; s != "ChartVersion" {
			t.Errorf("spec.chart.spec.reconcileStrategy = %q, want ChartVersion", s)
		}
		if got.Status.ObservedGeneration != -1 {
			t.Errorf("status.observedGeneration = %d, want -1 before the controller observes it", got.Status.ObservedGeneration)
		}
		if !got.UsePersistentClient() || got.GetReleaseName() != "minimal" {
			t.Errorf("UsePersistentClient() = %v, GetReleaseName() = %q; want true, minimal", got.UsePersistentClient(), got.GetReleaseName())
		}
	})

	t.Run("nested defaults and values", func(t *testing.T) {
		values := map[string]any{"replicaCount": float64(2), "ingress": map[string]any{"hosts": []any{"a.example.com"}}}
		raw, err := json.Marshal(values)
		if err != nil {
			t.Fatal(err)
		}
		c := chart.DeepCopy()
		c.Spec.Verify = &helmv1.HelmChartTemplateVerification{}
		got := create(t, &helmv1.HelmRelease{
			ObjectMeta: metav1.ObjectMeta{Name: "nested"},
			Spec: helmv1.HelmReleaseSpec{
				Interval:       metav1.Duration{Duration: 10 * time.Minute},
				Chart:          c,
				DependsOn:      []helmv1.DependencyReference{{Name: "db"}},
				DriftDetection: &helmv1.DriftDetection{Ignore: []helmv1.IgnoreRule{{Paths: []string{"/spec/replicas"}}}},
				Uninstall:      &helmv1.Uninstall{},
				Values:         &apiextensionsv1.JSON{Raw: raw},
				CommonMetadata: &meta.CommonMetadata{Labels: map[string]string{"team": "web"}},
			},
		})
		if got.Spec.DependsOn[0].Kind != helmv1.HelmReleaseKind {
			t.Errorf("spec.dependsOn[0].kind = %q, want HelmRelease", got.Spec.DependsOn[0].Kind)
		}
		if got.Spec.DriftDetection.Mode != helmv1.DriftDetectionEnabled {
			t.Errorf("spec.driftDetection.mode = %q, want enabled", got.Spec.DriftDetection.Mode)
		}
		if p := got.Spec.Uninstall.DeletionPropagation; p == nil || *p != "background" {
			t.Errorf("spec.uninstall.deletionPropagation = %v, want background", p)
		}
		if p := got.Spec.Chart.Spec.Verify.Provider; p != "cosign" {
			t.Errorf("spec.chart.spec.verify.provider = %q, want cosign", p)
		}
		var gotValues map[string]any
		if err := json.Unmarshal(got.Spec.Values.Raw, &gotValues); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotValues, values) {
			t.Errorf("spec.values = %v, want %v unchanged", gotValues, values)
		}
	})

	t.Run("Revision column", func(t *testing.T) {
		got := create(t, &helmv1.HelmRelease{
			ObjectMeta: metav1.ObjectMeta{Name: "column"},
			Spec:       helmv1.HelmReleaseSpec{Interval: metav1.Duration{Duration: 10 * time.Minute}, Chart: chart.DeepCopy()},
		})
		got.Status.LastAttemptedRevision = "6.7.0"
		if err := env.Client.Status().Update(ctx, got); err != nil {
			t.Fatalf("updating the status: %v", err)
		}
		row := deliveryTableRow(t, ctx, helmv1.GroupVersion.String(), "helmreleases", ns, got.Name)
		if row["Revision"] != "6.7.0" {
			t.Errorf("column Revision shows %v, want 6.7.0 (columns: %v)", row["Revision"], row)
		}
	})
}
