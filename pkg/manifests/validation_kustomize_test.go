package manifests_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// deliveryObjectName is the name of every object the Kustomization and HelmRelease validation
// cases submit; the rules against depending on oneself compare with it.
const deliveryObjectName = "subject"

// deliveryCase is one validation case of Kustomization or HelmRelease. spec is a YAML merge
// patch (null removes a key) over the kind's minimal valid spec. want is "" when the API server
// must accept the object; otherwise the rejection must be Invalid and contain want, which names
// the field and says what is wrong the way the user sees it.
type deliveryCase struct {
	name string
	spec string
	want string
}

// runDeliveryCases submits each case as a dry-run create of apiVersion/kind in a fresh namespace.
func runDeliveryCases(t *testing.T, apiVersion, kind, minimalSpec string, cases []deliveryCase) {
	t.Helper()
	ns := env.Namespace(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := deliveryObject(t, apiVersion, kind, ns, minimalSpec, tc.spec)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := env.Client.Create(ctx, obj, client.DryRunAll)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("the API server rejected a valid %s: %v", kind, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("the API server accepted the %s; want a rejection containing %q", kind, tc.want)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("the rejection does not contain %q:\n%v", tc.want, err)
			}
		})
	}
}

// deliveryObject builds an object of apiVersion/kind whose spec is patch merged over base.
func deliveryObject(t *testing.T, apiVersion, kind, namespace, base, patch string) *unstructured.Unstructured {
	t.Helper()
	spec := map[string]any{}
	if err := yaml.Unmarshal([]byte(base), &spec); err != nil {
		t.Fatalf("minimal spec: %v", err)
	}
	if strings.TrimSpace(patch) != "" {
		p := map[string]any{}
		if err := yaml.Unmarshal([]byte(patch), &p); err != nil {
			t.Fatalf("case spec %q: %v", patch, err)
		}
		spec = deliveryMergePatch(spec, p)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	obj.SetAPIVersion(apiVersion)
	obj.SetKind(kind)
	obj.SetNamespace(namespace)
	obj.SetName(deliveryObjectName)
	return obj
}

// deliveryMergePatch applies a JSON merge patch (RFC 7386) to target and returns it.
func deliveryMergePatch(target, patch map[string]any) map[string]any {
	for k, v := range patch {
		if v == nil {
			delete(target, k)
			continue
		}
		pv, isMap := v.(map[string]any)
		tv, wasMap := target[k].(map[string]any)
		if isMap && wasMap {
			target[k] = deliveryMergePatch(tv, pv)
			continue
		}
		target[k] = v
	}
	return target
}

// deliveryLong returns a string of n letters, to overflow a MaxLength.
func deliveryLong(n int) string { return strings.Repeat("a", n) }

// deliveryList returns a YAML flow list of n copies of item, to overflow a MaxItems.
func deliveryList(n int, item string) string {
	items := make([]string, n)
	for i := range items {
		items[i] = item
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// deliveryTableRow returns the cells `kubectl get` prints for one object, by column name.
func deliveryTableRow(t *testing.T, ctx context.Context, apiVersion, plural, namespace, name string) map[string]any {
	t.Helper()
	hc, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/apis/%s/namespaces/%s/%s/%s", strings.TrimSuffix(env.Config.Host, "/"), apiVersion, namespace, plural, name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var table metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&table); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, decoding: %v", url, resp.StatusCode, err)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("table has %d rows, want 1", len(table.Rows))
	}
	row := map[string]any{}
	for i, c := range table.ColumnDefinitions {
		row[c.Name] = table.Rows[0].Cells[i]
	}
	return row
}

const (
	minimalKustomizationSpec = `{sourceRef: {kind: GitRepository, name: repo}, interval: 5m, prune: true}`
	ksPathMessage            = "spec.path must be relative and must not contain '..' segments"
	ksImageMessage           = "images: each entry needs at least one of newName, newTag and digest"
	ksSubstituteMessage      = "spec.postBuild.substitute keys must be variable names"
)

// TestKustomizationValidation: every OpenAPI and CEL rule of Kustomization rejects what it must,
// with a message naming the field, and lets valid specs through.
func TestKustomizationValidation(t *testing.T) {
	runDeliveryCases(t, kustomizev1.GroupVersion.String(), kustomizev1.KustomizationKind, minimalKustomizationSpec, []deliveryCase{
		{"minimal spec", ``, ""},
		{"every optional field", `{
			path: ./clusters/prod, retryInterval: 1m, timeout: 3m, dependsOn: [{name: infra, namespace: flux}],
			allowEmptyPrune: true, deletionPolicy: WaitForTermination, wait: true,
			healthChecks: [{apiVersion: apps/v1, kind: Deployment, name: web, namespace: prod}],
			healthCheckExprs: [{apiVersion: cert-manager.io/v1, kind: Certificate, current: "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')", failed: "false"}],
			force: true, suspend: true, targetNamespace: prod, namePrefix: prod-, nameSuffix: -eu,
			commonMetadata: {labels: {team: web}, annotations: {owner: web}},
			patches: [{patch: "- op: add\n  path: /metadata/labels/x\n  value: y", target: {kind: Deployment, labelSelector: "app=web"}}],
			images: [{name: nginx, newName: registry.example.com/nginx, newTag: "1.27", digest: "sha256:0123abcd"}],
			components: [../components/monitoring], ignoreMissingComponents: true,
			postBuild: {substitute: {cluster_name: prod, _REGION: eu}, substituteFrom: [{kind: ConfigMap, name: vars}, {kind: Secret, name: secret-vars, optional: true}]},
			decryption: {provider: sops, secretRef: {name: sops-age}}, serviceAccountName: deployer,
			kubeConfig: {secretRef: {name: prod-kubeconfig, key: value}}}`, ""},

		// sourceRef
		{"sourceRef is required", `{sourceRef: null}`, `spec.sourceRef: Required value`},
		{"sourceRef OCIRepository", `{sourceRef: {kind: OCIRepository, name: manifests, namespace: flux, apiVersion: source.weir.dev/v1}}`, ""},
		{"sourceRef without kind", `{sourceRef: {kind: null}}`, `spec.sourceRef.kind: Required value`},
		{"sourceRef Bucket", `{sourceRef: {kind: Bucket}}`, `spec.sourceRef.kind: Unsupported value: "Bucket"`},
		{"sourceRef HelmRepository", `{sourceRef: {kind: HelmRepository}}`, `spec.sourceRef.kind: Unsupported value: "HelmRepository"`},
		{"sourceRef Flux apiVersion", `{sourceRef: {apiVersion: source.toolkit.fluxcd.io/v1}}`, `spec.sourceRef.apiVersion: Invalid value: "source.toolkit.fluxcd.io/v1"`},
		{"sourceRef without name", `{sourceRef: {name: null}}`, `spec.sourceRef.name: Required value`},
		{"sourceRef empty name", `{sourceRef: {name: ""}}`, `spec.sourceRef.name: Invalid value: ""`},
		{"sourceRef namespace too long", fmt.Sprintf(`{sourceRef: {namespace: %s}}`, deliveryLong(64)), `spec.sourceRef.namespace: Too long`},

		// path
		{"path with ./", `{path: ./apps/prod}`, ""},
		{"path with dots inside a name", `{path: apps/..hidden/x..y}`, ""},
		{"absolute path", `{path: /apps}`, ksPathMessage},
		{"path escaping", `{path: "apps/../../etc"}`, ksPathMessage},
		{"path ..", `{path: ".."}`, ksPathMessage},
		{"path too long", fmt.Sprintf(`{path: %s}`, deliveryLong(1025)), `spec.path: Too long`},

		// interval, retryInterval, timeout
		{"interval is required", `{interval: null}`, `spec.interval: Required value`},
		{"interval in days", `{interval: 1d}`, `spec.interval: Invalid value: "1d"`},
		{"retryInterval without unit", `{retryInterval: "60"}`, `spec.retryInterval: Invalid value: "60"`},
		{"timeout in days", `{timeout: 1d}`, `spec.timeout: Invalid value: "1d"`},

		// prune and deletion
		{"prune is required", `{prune: null}`, `spec.prune: Required value`},
		{"prune false", `{prune: false}`, ""},
		{"deletionPolicy Orphan", `{deletionPolicy: Orphan}`, ""},
		{"deletionPolicy unknown", `{deletionPolicy: Keep}`, `spec.deletionPolicy: Unsupported value: "Keep"`},

		// dependsOn
		{"dependsOn itself", fmt.Sprintf(`{dependsOn: [{name: infra}, {name: %s}]}`, deliveryObjectName), "spec.dependsOn: a Kustomization cannot depend on itself"},
		{"dependsOn same name elsewhere", fmt.Sprintf(`{dependsOn: [{name: %s, namespace: other}]}`, deliveryObjectName), ""},
		{"dependsOn without name", `{dependsOn: [{namespace: flux}]}`, `spec.dependsOn[0].name: Required value`},
		{"dependsOn a HelmRelease of the same name", fmt.Sprintf(`{dependsOn: [{kind: HelmRelease, name: %s}]}`, deliveryObjectName), ""},
		{"dependsOn itself by kind", fmt.Sprintf(`{dependsOn: [{kind: Kustomization, name: %s}]}`, deliveryObjectName), "spec.dependsOn: a Kustomization cannot depend on itself"},
		{"dependsOn a GitRepository", `{dependsOn: [{kind: GitRepository, name: repo}]}`, `spec.dependsOn[0].kind: Unsupported value: "GitRepository"`},
		{"dependsOn apiVersion of another kind", `{dependsOn: [{kind: HelmRelease, apiVersion: kustomize.weir.dev/v1, name: db}]}`, "spec.dependsOn: apiVersion must be kustomize.weir.dev/v1 for a Kustomization and helm.weir.dev/v1 for a HelmRelease"},
		{"dependsOn with readyExpr", `{dependsOn: [{name: infra, readyExpr: "dep.metadata.generation == dep.status.observedGeneration"}]}`, ""},
		{"too many dependsOn", fmt.Sprintf(`{dependsOn: %s}`, deliveryList(65, "{name: infra}")), `spec.dependsOn: Too many`},

		// health
		{"healthCheck without kind", `{healthChecks: [{name: web}]}`, `spec.healthChecks[0].kind: Required value`},
		{"too many healthChecks", fmt.Sprintf(`{healthChecks: %s}`, deliveryList(257, "{kind: Deployment, name: web}")), `spec.healthChecks: Too many`},
		{"healthCheckExpr without current", `{healthCheckExprs: [{apiVersion: v1, kind: Thing, failed: "true"}]}`, `spec.healthCheckExprs[0].current: Required value`},
		{"healthCheckExpr without kind", `{healthCheckExprs: [{apiVersion: v1, current: "true"}]}`, `spec.healthCheckExprs[0].kind: Required value`},
		{"healthCheckExpr too long", fmt.Sprintf(`{healthCheckExprs: [{apiVersion: v1, kind: Thing, current: %s}]}`, deliveryLong(4097)), `spec.healthCheckExprs[0].current: Too long`},
		{"too many healthCheckExprs", fmt.Sprintf(`{healthCheckExprs: %s}`, deliveryList(65, `{apiVersion: v1, kind: Thing, current: "true"}`)), `spec.healthCheckExprs: Too many`},

		// names and namespaces
		{"targetNamespace upper case", `{targetNamespace: Prod}`, `spec.targetNamespace: Invalid value: "Prod"`},
		{"targetNamespace with a dot", `{targetNamespace: prod.eu}`, `spec.targetNamespace: Invalid value: "prod.eu"`},
		{"targetNamespace empty", `{targetNamespace: ""}`, `spec.targetNamespace: Invalid value: ""`},
		{"targetNamespace too long", fmt.Sprintf(`{targetNamespace: %s}`, deliveryLong(64)), `spec.targetNamespace: Too long`},
		{"namePrefix starting with -", `{namePrefix: -prod}`, `spec.namePrefix: Invalid value: "-prod"`},
		{"nameSuffix ending with -", `{nameSuffix: prod-}`, `spec.nameSuffix: Invalid value: "prod-"`},
		{"namePrefix too long", fmt.Sprintf(`{namePrefix: %s}`, deliveryLong(201)), `spec.namePrefix: Too long`},
		{"serviceAccountName upper case", `{serviceAccountName: Deployer}`, `spec.serviceAccountName: Invalid value: "Deployer"`},

		// patches, images, components, commonMetadata
		{"patch without text", `{patches: [{target: {kind: Deployment}}]}`, `spec.patches[0].patch: Required value`},
		{"patch with empty text", `{patches: [{patch: ""}]}`, `spec.patches[0].patch: Invalid value: ""`},
		{"patch target selector too long", fmt.Sprintf(`{patches: [{patch: x, target: {labelSelector: %s}}]}`, deliveryLong(1025)), `spec.patches[0].target.labelSelector: Too long`},
		{"too many patches", fmt.Sprintf(`{patches: %s}`, deliveryList(257, "{patch: x}")), `spec.patches: Too many`},
		{"image with only newTag", `{images: [{name: nginx, newTag: "1.27"}]}`, ""},
		{"image without name", `{images: [{newTag: "1.27"}]}`, `spec.images[0].name: Required value`},
		{"image without a rewrite", `{images: [{name: nginx}]}`, ksImageMessage},
		{"image digest without algorithm", `{images: [{name: nginx, digest: "0123abcd"}]}`, `spec.images[0].digest: Invalid value: "0123abcd"`},
		{"absolute component", `{components: [/components/x]}`, "spec.components must be relative paths"},
		{"too many components", fmt.Sprintf(`{components: %s}`, deliveryList(65, "c")), `spec.components: Too many`},
		{"too many common labels", fmt.Sprintf(`{commonMetadata: {labels: {%s}}}`, ksManyKeys(65)), `spec.commonMetadata.labels: Too many`},

		// postBuild
		{"substitute key with a dash", `{postBuild: {substitute: {cluster-name: prod}}}`, ksSubstituteMessage},
		{"substitute key starting with a digit", `{postBuild: {substitute: {1region: eu}}}`, ksSubstituteMessage},
		{"substituteFrom Namespace", `{postBuild: {substituteFrom: [{kind: Namespace, name: vars}]}}`, `spec.postBuild.substituteFrom[0].kind: Unsupported value: "Namespace"`},
		{"substituteFrom without name", `{postBuild: {substituteFrom: [{kind: Secret}]}}`, `spec.postBuild.substituteFrom[0].name: Required value`},
		{"too many substituteFrom", fmt.Sprintf(`{postBuild: {substituteFrom: %s}}`, deliveryList(65, "{kind: Secret, name: v}")), `spec.postBuild.substituteFrom: Too many`},

		// decryption and kubeConfig
		{"decryption without provider", `{decryption: {secretRef: {name: sops}}}`, `spec.decryption.provider: Required value`},
		{"decryption provider vault", `{decryption: {provider: vault}}`, `spec.decryption.provider: Unsupported value: "vault"`},
		{"kubeConfig without secretRef", `{kubeConfig: {}}`, `spec.kubeConfig.secretRef: Required value`},
	})
}

// ksManyKeys returns n YAML flow-map entries.
func ksManyKeys(n int) string {
	entries := make([]string, n)
	for i := range entries {
		entries[i] = fmt.Sprintf("k%d: v", i)
	}
	return strings.Join(entries, ", ")
}

// TestKustomizationCreateWithDefaults creates a Kustomization for real from a minimal spec and
// checks the defaults the schema fills in, then the Revision column `kubectl get` prints.
func TestKustomizationCreateWithDefaults(t *testing.T) {
	ns := env.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
			Interval:  metav1.Duration{Duration: 10 * time.Minute},
			Prune:     true,
		},
	}
	if err := env.Client.Create(ctx, ks); err != nil {
		t.Fatalf("creating a minimal Kustomization: %v", err)
	}
	var got kustomizev1.Kustomization
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ks), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.DeletionPolicy != kustomizev1.DeletionPolicyMirrorPrune {
		t.Errorf("spec.deletionPolicy = %q, want %q", got.Spec.DeletionPolicy, kustomizev1.DeletionPolicyMirrorPrune)
	}
	if got.Spec.AllowEmptyPrune {
		t.Errorf("spec.allowEmptyPrune = true, want false by default")
	}
	if got.Spec.Timeout != nil {
		t.Errorf("spec.timeout = %v, want unset (derived from the interval)", got.Spec.Timeout)
	}
	if d := got.GetTimeout(); d != 10*time.Minute-30*time.Second {
		t.Errorf("GetTimeout() = %v, want interval - 30s", d)
	}
	if got.Status.ObservedGeneration != -1 {
		t.Errorf("status.observedGeneration = %d, want -1 before the controller observes it", got.Status.ObservedGeneration)
	}

	got.Status.LastAppliedRevision = "main@sha1:0123456789abcdef0123456789abcdef01234567"
	if err := env.Client.Status().Update(ctx, &got); err != nil {
		t.Fatalf("updating the status: %v", err)
	}
	row := deliveryTableRow(t, ctx, kustomizev1.GroupVersion.String(), "kustomizations", ns, ks.Name)
	if row["Revision"] != got.Status.LastAppliedRevision {
		t.Errorf("column Revision shows %v, want %q (columns: %v)", row["Revision"], got.Status.LastAppliedRevision, row)
	}
}
