package migrate

import (
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/generate"
)

// TestApplicationSetGitDirectories: the seed's team-apps ApplicationSet (a Git directory
// generator) becomes a GitRepository and a ResourceSet with a canary step, whose template
// renders for a team directory the Kustomization Argo's Application stood for; an
// ApplicationSet that does not map is reported at its line and left as it was.
func TestApplicationSetGitDirectories(t *testing.T) {
	src, err := os.ReadFile("testdata/argo/team-apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, findings := Rewrite("team-apps.yaml", src)
	if len(findings) != 1 || findings[0].Line != 33 || !strings.Contains(findings[0].Message, "ApplicationSet clusters: only a single Git directory generator maps") {
		t.Fatalf("findings %v", findings)
	}
	docs := strings.Split(string(out), "\n---\n")
	if len(docs) != 3 || !strings.Contains(docs[2], "kind: ApplicationSet") || !strings.Contains(docs[2], "name: clusters") {
		t.Fatalf("%d documents; the unmapped one must stay as it was:\n%s", len(docs), out)
	}
	var set setsv1.ResourceSet
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &set); err != nil {
		t.Fatalf("the ResourceSet does not decode: %v\n%s", err, docs[1])
	}
	if set.Namespace != "weir-system" || !set.Spec.Prune || set.Spec.SourceRef.Name != "team-apps" ||
		strings.Join(set.Spec.Generators[0].Directories.Paths, ",") != "teams/*/production" ||
		strings.Join(set.Spec.Generators[0].Directories.Exclude, ",") != "teams/sandbox/production" ||
		len(set.Spec.Strategy.Steps) != 2 || *set.Spec.Strategy.Steps[0].Percentage != 1 {
		t.Fatalf("ResourceSet %+v", set.Spec)
	}
	if !strings.Contains(docs[0], "kind: GitRepository") || !strings.Contains(docs[0], `url: "https://github.com/example/platform.git"`) || !strings.Contains(docs[0], `branch: "main"`) {
		t.Fatalf("GitRepository:\n%s", docs[0])
	}
	tpl, err := generate.Parse(set.Spec.Template)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := tpl.Render(generate.Input{Name: "teams/payments/production", Values: map[string]any{
		"path": "teams/payments/production", "basename": "production", "segments": []any{"teams", "payments", "production"}}})
	if err != nil {
		t.Fatal(err)
	}
	o := objs[0].Object
	spec := o["spec"].(map[string]any)
	if objs[0].GetKind() != "Kustomization" || objs[0].GetName() != "payments-production" || spec["path"] != "teams/payments/production" ||
		spec["targetNamespace"] != "payments" || spec["prune"] != true {
		t.Fatalf("rendered %v", o)
	}
}
