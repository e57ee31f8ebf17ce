package generate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	setsv1 "weir.dev/api/sets/v1"
)

// TestReadmeTeamApps: the README's team-apps ResourceSet decodes strictly, and its template
// renders for a team directory the canary-labelled Kustomization the section describes.
func TestReadmeTeamApps(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## Generating many apps from one template")
	if !ok {
		t.Fatal("README has no section on ResourceSets")
	}
	_, block, _ := strings.Cut(section, "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	var set setsv1.ResourceSet
	if err := yaml.UnmarshalStrict([]byte(block), &set); err != nil {
		t.Fatalf("the README's ResourceSet: %v", err)
	}
	root := tree(t, map[string]string{"teams/platform/production/app.yaml": "x", "teams/shop/production/app.yaml": "x"})
	ins, err := Inputs(set.Spec.Generators, root)
	if err != nil || names(ins) != "teams/platform/production,teams/shop/production" {
		t.Fatalf("inputs %s, %v", names(ins), err)
	}
	tpl, err := Parse(set.Spec.Template)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		objs, err := tpl.Render(in)
		if err != nil {
			t.Fatal(err)
		}
		ks := objs[0]
		canary := ks.GetLabels()["weir.dev/canary"]
		if ks.GetKind() != "Kustomization" || (ks.GetName() == "platform") != (canary == "true") || ks.Object["spec"].(map[string]any)["path"] != in.Name {
			t.Fatalf("rendered %v", ks.Object)
		}
	}
	if s := set.Spec.Strategy.Steps; len(s) != 3 || s[0].Selector.MatchLabels["weir.dev/canary"] != "true" {
		t.Fatalf("steps %+v", s)
	}
}
