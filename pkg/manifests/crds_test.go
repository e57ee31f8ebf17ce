package manifests_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// weirKinds is the API table of docs/architecture.md: every kind, its plural and short name, and
// whether a controller reconciles it (an ExternalArtifact is written by its producer, so it
// takes no reconcile request).
var weirKinds = []struct {
	group, kind, plural, short string
	produced                   bool
}{
	{"source.weir.dev", "GitRepository", "gitrepositories", "gitrepo", false},
	{"source.weir.dev", "OCIRepository", "ocirepositories", "ocirepo", false},
	{"source.weir.dev", "HelmRepository", "helmrepositories", "helmrepo", false},
	{"source.weir.dev", "HelmChart", "helmcharts", "hc", false},
	{"source.weir.dev", "ArtifactGenerator", "artifactgenerators", "ag", false},
	{"source.weir.dev", "ExternalArtifact", "externalartifacts", "ea", true},
	{"kustomize.weir.dev", "Kustomization", "kustomizations", "ks", false},
	{"helm.weir.dev", "HelmRelease", "helmreleases", "hr", false},
	{"notification.weir.dev", "Provider", "providers", "", false},
	{"notification.weir.dev", "Alert", "alerts", "", false},
	{"notification.weir.dev", "Receiver", "receivers", "", false},
	{"sets.weir.dev", "ResourceSet", "resourcesets", "rset", false},
}

// TestCRDFilesMatchTheAPITable: deploy/crds holds exactly one CRD per kind, with the names,
// scope, category, status subresource and printer columns docs/architecture.md promises.
func TestCRDFilesMatchTheAPITable(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(env.RepoRoot, "deploy", "crds", "*_*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]apiextensionsv1.CustomResourceDefinition{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(b, &crd); err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		byName[crd.Name] = crd
	}
	if len(byName) != len(weirKinds) {
		t.Errorf("deploy/crds has %d CRDs, the API table has %d kinds", len(byName), len(weirKinds))
	}
	for _, k := range weirKinds {
		t.Run(k.kind, func(t *testing.T) {
			crd, ok := byName[k.plural+"."+k.group]
			if !ok {
				t.Fatalf("no CRD %s.%s in deploy/crds", k.plural, k.group)
			}
			n := crd.Spec.Names
			if n.Kind != k.kind || crd.Spec.Scope != apiextensionsv1.NamespaceScoped {
				t.Errorf("kind %q scope %q, want %q Namespaced", n.Kind, crd.Spec.Scope, k.kind)
			}
			if k.short != "" && !slices.Equal(n.ShortNames, []string{k.short}) {
				t.Errorf("short names %v, want [%s]", n.ShortNames, k.short)
			}
			if !slices.Contains(n.Categories, "weir") {
				t.Errorf("categories %v lack weir", n.Categories)
			}
			if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != "v1" || !crd.Spec.Versions[0].Served || !crd.Spec.Versions[0].Storage {
				t.Fatalf("want exactly v1, served and stored")
			}
			v := crd.Spec.Versions[0]
			if v.Subresources == nil || v.Subresources.Status == nil {
				t.Errorf("no status subresource")
			}
			var cols []string
			for _, c := range v.AdditionalPrinterColumns {
				cols = append(cols, c.Name)
			}
			for _, want := range []string{"Ready", "Status", "Age"} {
				if !slices.Contains(cols, want) {
					t.Errorf("printer columns %v lack %s", cols, want)
				}
			}
			if len(cols) < 4 {
				t.Errorf("printer columns %v: want a kind-specific column besides Ready, Status, Age", cols)
			}
			status := v.Schema.OpenAPIV3Schema.Properties["status"]
			og, ok := status.Properties["observedGeneration"]
			if !ok || og.Default == nil || string(og.Default.Raw) != "-1" {
				t.Errorf("status.observedGeneration must default to -1")
			}
			if _, ok := status.Properties["conditions"]; !ok {
				t.Errorf("status has no conditions")
			}
			if _, ok := status.Properties["lastHandledReconcileAt"]; !ok && !k.produced {
				t.Errorf("status has no lastHandledReconcileAt")
			}
		})
	}
}

// TestCRDsAreEstablished: the API server accepted every CRD and serves its kind.
func TestCRDsAreEstablished(t *testing.T) {
	ctx := context.Background()
	for _, k := range weirKinds {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := env.Client.Get(ctx, client.ObjectKey{Name: k.plural + "." + k.group}, &crd); err != nil {
			t.Fatalf("%s: %v", k.kind, err)
		}
		established := false
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				established = true
			}
		}
		if !established {
			t.Errorf("%s is not Established: %+v", k.kind, crd.Status.Conditions)
		}
	}
}

// TestDiscoveryCategoryAndShortNames: what `kubectl get weir -A` and the short names rely on.
func TestDiscoveryCategoryAndShortNames(t *testing.T) {
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	inCategory := map[string]metav1.APIResource{}
	for _, l := range lists {
		for _, r := range l.APIResources {
			if slices.Contains(r.Categories, "weir") {
				inCategory[r.Kind] = r
			}
		}
	}
	for _, k := range weirKinds {
		r, ok := inCategory[k.kind]
		if !ok {
			t.Errorf("%s is not in the weir category", k.kind)
			continue
		}
		if k.short != "" && !slices.Contains(r.ShortNames, k.short) {
			t.Errorf("%s: discovery short names %v lack %s", k.kind, r.ShortNames, k.short)
		}
	}
	if len(inCategory) != len(weirKinds) {
		t.Errorf("the weir category has %d kinds, want %d", len(inCategory), len(weirKinds))
	}
}

// TestTableColumns asks the API server for the Table kubectl prints and checks the columns.
func TestTableColumns(t *testing.T) {
	hc, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range weirKinds {
		t.Run(k.kind, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(env.Config.Host, "/")+"/apis/"+k.group+"/v1/"+k.plural, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s (%v)", resp.StatusCode, body, resp.Header)
			}
			var table metav1.Table
			if err := json.Unmarshal(body, &table); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range table.ColumnDefinitions {
				names = append(names, c.Name)
			}
			for _, want := range []string{"Name", "Ready", "Status", "Age"} {
				if !slices.Contains(names, want) {
					t.Errorf("table columns %s lack %s", strings.Join(names, ","), want)
				}
			}
		})
	}
}
