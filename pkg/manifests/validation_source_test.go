package manifests_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

	sourcev1 "weir.dev/api/source/v1"
)

// sourceObjectName is the name of every object the source validation cases submit; rules that
// compare a reference with the object's own name use it.
const sourceObjectName = "subject"

// sourceCase is one validation case of a source kind. spec is a YAML merge patch (null removes a
// key) over the kind's minimal valid spec. want is "" when the API server must accept the object;
// otherwise the rejection must be Invalid and its message must contain want, which names the field
// and says what is wrong the way the user sees it.
type sourceCase struct {
	name string
	spec string
	want string
}

// runSourceCases submits each case as a dry-run create of kind, in a fresh namespace.
func runSourceCases(t *testing.T, kind, minimalSpec string, cases []sourceCase) {
	t.Helper()
	ns := env.Namespace(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := sourceObject(t, kind, ns, minimalSpec, tc.spec)
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

// sourceObject builds a source.weir.dev/v1 object of kind whose spec is patch merged over base.
func sourceObject(t *testing.T, kind, namespace, base, patch string) *unstructured.Unstructured {
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
		spec = sourceMergePatch(spec, p)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	obj.SetAPIVersion(sourcev1.GroupVersion.String())
	obj.SetKind(kind)
	obj.SetNamespace(namespace)
	obj.SetName(sourceObjectName)
	return obj
}

// sourceMergePatch applies a JSON merge patch (RFC 7386) to target and returns it.
func sourceMergePatch(target, patch map[string]any) map[string]any {
	for k, v := range patch {
		if v == nil {
			delete(target, k)
			continue
		}
		pv, isMap := v.(map[string]any)
		tv, wasMap := target[k].(map[string]any)
		if isMap && wasMap {
			target[k] = sourceMergePatch(tv, pv)
			continue
		}
		target[k] = v
	}
	return target
}

// sourceLongString returns a string of n letters, to overflow a MaxLength.
func sourceLongString(n int) string { return strings.Repeat("a", n) }

// sourceList returns a YAML flow list of n copies of item, to overflow a MaxItems.
func sourceList(n int, item string) string {
	items := make([]string, n)
	for i := range items {
		items[i] = item
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// TestSourceKindsCreateWithDefaults creates each source kind for real from a minimal spec and
// checks the defaults the schema fills in.
func TestSourceKindsCreateWithDefaults(t *testing.T) {
	ns := env.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	interval := metav1.Duration{Duration: 5 * time.Minute}
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: ns} }

	create := func(t *testing.T, obj client.Object) {
		t.Helper()
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatalf("creating a minimal %T: %v", obj, err)
		}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
	}
	wantDuration := func(t *testing.T, field string, got *metav1.Duration, want time.Duration) {
		t.Helper()
		if got == nil || got.Duration != want {
			t.Errorf("%s = %v, want %v", field, got, want)
		}
	}
	wantString := func(t *testing.T, field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	wantObservedGeneration := func(t *testing.T, got int64) {
		t.Helper()
		if got != -1 {
			t.Errorf("status.observedGeneration = %d, want -1 before the controller observes it", got)
		}
	}

	t.Run("GitRepository", func(t *testing.T) {
		obj := &sourcev1.GitRepository{ObjectMeta: meta("git"), Spec: sourcev1.GitRepositorySpec{
			URL: "https://example.com/org/repo.git", Interval: interval,
		}}
		create(t, obj)
		wantDuration(t, "spec.timeout", obj.Spec.Timeout, time.Minute)
		wantObservedGeneration(t, obj.Status.ObservedGeneration)
	})

	t.Run("OCIRepository", func(t *testing.T) {
		obj := &sourcev1.OCIRepository{ObjectMeta: meta("oci"), Spec: sourcev1.OCIRepositorySpec{
			URL: "oci://ghcr.io/org/manifests", Interval: interval,
		}}
		create(t, obj)
		wantDuration(t, "spec.timeout", obj.Spec.Timeout, time.Minute)
		wantString(t, "spec.provider", obj.Spec.Provider, sourcev1.GenericOCIProvider)
		wantObservedGeneration(t, obj.Status.ObservedGeneration)
	})

	t.Run("OCIRepositoryNestedDefaults", func(t *testing.T) {
		obj := &sourcev1.OCIRepository{ObjectMeta: meta("oci-nested"), Spec: sourcev1.OCIRepositorySpec{
			URL: "oci://ghcr.io/org/manifests", Interval: interval,
			LayerSelector: &sourcev1.OCILayerSelector{MediaType: "application/vnd.cncf.flux.content.v1.tar+gzip"},
			Verify:        &sourcev1.OCIRepositoryVerification{},
		}}
		create(t, obj)
		wantString(t, "spec.layerSelector.operation", obj.Spec.LayerSelector.Operation, sourcev1.OCILayerExtract)
		wantString(t, "spec.verify.provider", obj.Spec.Verify.Provider, sourcev1.CosignVerificationProvider)
	})

	t.Run("HelmRepository", func(t *testing.T) {
		obj := &sourcev1.HelmRepository{ObjectMeta: meta("helm"), Spec: sourcev1.HelmRepositorySpec{
			URL: "https://charts.example.com",
		}}
		create(t, obj)
		wantString(t, "spec.type", obj.Spec.Type, sourcev1.HelmRepositoryTypeDefault)
		wantString(t, "spec.provider", obj.Spec.Provider, sourcev1.GenericOCIProvider)
		wantDuration(t, "spec.timeout", obj.Spec.Timeout, time.Minute)
		if obj.Spec.Interval != nil {
			t.Errorf("spec.interval = %v, want unset (the controller uses %v)", obj.Spec.Interval, sourcev1.DefaultHelmRepositoryInterval)
		}
		if got := obj.GetRequeueAfter().Duration; got != sourcev1.DefaultHelmRepositoryInterval {
			t.Errorf("GetRequeueAfter() = %v, want %v", got, sourcev1.DefaultHelmRepositoryInterval)
		}
		wantObservedGeneration(t, obj.Status.ObservedGeneration)
	})

	t.Run("HelmRepositoryOCI", func(t *testing.T) {
		obj := &sourcev1.HelmRepository{ObjectMeta: meta("helm-oci"), Spec: sourcev1.HelmRepositorySpec{
			URL: "oci://ghcr.io/org/charts", Type: sourcev1.HelmRepositoryTypeOCI,
		}}
		create(t, obj)
		wantString(t, "spec.provider", obj.Spec.Provider, sourcev1.GenericOCIProvider)
	})

	t.Run("HelmChart", func(t *testing.T) {
		obj := &sourcev1.HelmChart{ObjectMeta: meta("chart"), Spec: sourcev1.HelmChartSpec{
			Chart:     "podinfo",
			SourceRef: sourcev1.HelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "helm"},
			Interval:  interval,
		}}
		create(t, obj)
		wantString(t, "spec.version", obj.Spec.Version, "*")
		wantString(t, "spec.reconcileStrategy", obj.Spec.ReconcileStrategy, sourcev1.ReconcileStrategyChartVersion)
		if obj.Spec.Timeout != nil {
			t.Errorf("spec.timeout = %v, want unset (the HelmRepository's timeout applies)", obj.Spec.Timeout)
		}
		wantObservedGeneration(t, obj.Status.ObservedGeneration)
	})
}

// TestSourcePrinterColumns checks the kind-specific columns `kubectl get` prints for each source kind.
func TestSourcePrinterColumns(t *testing.T) {
	ns := env.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hc, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		kind, plural, spec string
		want               map[string]string
	}{
		{sourcev1.GitRepositoryKind, "gitrepositories", `{url: "https://example.com/org/repo.git", interval: 5m}`,
			map[string]string{"URL": "https://example.com/org/repo.git"}},
		{sourcev1.OCIRepositoryKind, "ocirepositories", `{url: "oci://ghcr.io/org/manifests", interval: 5m}`,
			map[string]string{"URL": "oci://ghcr.io/org/manifests"}},
		{sourcev1.HelmRepositoryKind, "helmrepositories", `{url: "https://charts.example.com"}`,
			map[string]string{"URL": "https://charts.example.com"}},
		{sourcev1.HelmChartKind, "helmcharts", `{chart: podinfo, version: "6.x", interval: 5m, sourceRef: {kind: HelmRepository, name: podinfo}}`,
			map[string]string{"Chart": "podinfo", "Version": "6.x", "Source Kind": "HelmRepository", "Source Name": "podinfo"}},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			if err := env.Client.Create(ctx, sourceObject(t, tc.kind, ns, tc.spec, "")); err != nil {
				t.Fatal(err)
			}
			url := fmt.Sprintf("%s/apis/source.weir.dev/v1/namespaces/%s/%s/%s", strings.TrimSuffix(env.Config.Host, "/"), ns, tc.plural, sourceObjectName)
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
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d: %s %v", url, resp.StatusCode, body, err)
			}
			var table metav1.Table
			if err := json.Unmarshal(body, &table); err != nil {
				t.Fatalf("decoding the table: %v", err)
			}
			if len(table.Rows) != 1 {
				t.Fatalf("table has %d rows, want 1", len(table.Rows))
			}
			var names []string
			for i, c := range table.ColumnDefinitions {
				names = append(names, c.Name)
				if want, ok := tc.want[c.Name]; ok && fmt.Sprint(table.Rows[0].Cells[i]) != want {
					t.Errorf("column %s shows %v, want %q", c.Name, table.Rows[0].Cells[i], want)
				}
			}
			for col := range tc.want {
				found := false
				for _, n := range names {
					found = found || n == col
				}
				if !found {
					t.Errorf("no column %s in %v", col, names)
				}
			}
		})
	}
}
