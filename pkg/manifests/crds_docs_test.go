package manifests_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"weir.dev/pkg/testenv"
)

// unsupportedFeature matches what the CRD documentation mentions of features Weir refuses:
// keyless cosign, notation signatures, cloud workload identity, cloud KMS.
var unsupportedFeature = regexp.MustCompile(`(?i)\bkeyless\b|\bnotation\b|workload identity|\bKMS\b`)

// refusal matches a description that says the feature it mentions is refused.
var refusal = regexp.MustCompile(`(?i)refused|not supported|does not verify`)

// TestCRDDocsPromiseNothingRefused: every description in deploy/crds (what `kubectl explain`
// shows) that mentions a feature Weir refuses says that it is refused, so that, for example,
// `kubectl explain ocirepository.spec.verify` does not promise keyless cosign.
func TestCRDDocsPromiseNothingRefused(t *testing.T) {
	root, err := testenv.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "deploy", "crds", "*_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in deploy/crds (%v)", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &crd); err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		for _, v := range crd.Spec.Versions {
			describe(*v.Schema.OpenAPIV3Schema, strings.ToLower(crd.Spec.Names.Kind), func(path, description string) {
				if unsupportedFeature.MatchString(description) && !refusal.MatchString(description) {
					t.Errorf("kubectl explain %s promises %q, which Weir refuses, without saying so:\n%s",
						path, unsupportedFeature.FindString(description), description)
				}
			})
		}
	}
}

// describe calls visit with the path and description of s and every schema under it.
func describe(s apiextensionsv1.JSONSchemaProps, path string, visit func(path, description string)) {
	visit(path, s.Description)
	if s.Items != nil && s.Items.Schema != nil {
		describe(*s.Items.Schema, path, visit)
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		describe(s.Properties[name], path+"."+name, visit)
	}
}
