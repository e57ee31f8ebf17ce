package preview_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
)

// TestDiffSet: `weir diff set` shows, before a change is merged, the object a team directory
// added would create, the change of a template edit, the input that fails to render (with the
// template line), and the object of a removed directory that prune would delete.
func TestDiffSet(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	dir := t.TempDir()
	for _, team := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, "teams", team, "production"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	owned := func(name, value string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
			setsv1.OwnerNameLabel: "teams", setsv1.OwnerNamespaceLabel: ns}}, Data: map[string]string{"value": value}}
	}
	for _, cm := range []*corev1.ConfigMap{owned("team-a", "1"), owned("team-gone", "1")} {
		if err := env.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	set := &setsv1.ResourceSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "teams"},
		Spec: setsv1.ResourceSetSpec{
			Interval:   metav1.Duration{Duration: time.Hour},
			Prune:      true,
			SourceRef:  &setsv1.SourceReference{Kind: "GitRepository", Name: "platform"},
			Generators: []setsv1.Generator{{Directories: &setsv1.PathGenerator{Paths: []string{"teams/*/production"}}}, {List: []apiextensionsv1.JSON{{Raw: []byte(`{"name":"odd"}`)}}}},
			Template:   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team-{{ index .segments 1 }}\ndata:\n  value: \"2\"\n",
		},
		Status: setsv1.ResourceSetStatus{Inventory: &meta.ResourceInventory{Entries: []meta.ResourceRef{
			{ID: ns + "_team-a__ConfigMap", Version: "v1"}, {ID: ns + "_team-gone__ConfigMap", Version: "v1"},
		}}},
	}
	env.CreateWithStatus(t, set)

	code, out, errOut := weir("diff", "set", "teams", "--path", dir, "-n", ns)
	if code != 2 {
		t.Fatalf("code %d, want 2 (an input fails to render); stderr %s", code, errOut)
	}
	for _, want := range []string{
		"► ConfigMap/" + ns + "/team-a (input teams/a/production) changed", "-  value: \"1\"", "+  value: \"2\"",
		"► ConfigMap/" + ns + "/team-b (input teams/b/production) created",
		`✗ input odd: template: spec.template:4:22: executing "spec.template" at <.segments>: map has no entry for key "segments"`,
		"► ConfigMap/" + ns + "/team-gone deleted",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "1 inputs fail to render") {
		t.Errorf("stderr %q", errOut)
	}
}
