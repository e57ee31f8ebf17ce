package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

// TestTreeAndTraceAsData: `weir tree` and `weir trace` print with -o json or yaml what their
// text shows: the inventory with each object's health and the nested Kustomization's own
// objects, the dependency graph with the blocking edge and why, and the chain of managers and
// sources.
func TestTreeAndTraceAsData(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings",
		Labels: map[string]string{objects.KustomizeNameLabel: "child", objects.KustomizeNamespaceLabel: ns}}}
	if err := env.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	create(t, gitRepository(ns, "app", ready(metav1.ConditionTrue, meta.SucceededReason, "stored artifact"), "main@sha1:abc"))
	parent := kustomization(ns, "parent", "app", ready(metav1.ConditionTrue, meta.SucceededReason, "applied"), "main@sha1:abc")
	parent.Status.Inventory = inventory(ns+"_child_kustomize.weir.dev_Kustomization", "v1", ns+"_gone__ConfigMap", "v1")
	parent.Spec.DependsOn = []kustomizev1.DependencyReference{{Kind: helmv1.HelmReleaseKind, Name: "db"}}
	create(t, parent)
	child := kustomization(ns, "child", "app", ready(metav1.ConditionTrue, meta.SucceededReason, "applied"), "main@sha1:abc")
	child.Labels = map[string]string{objects.KustomizeNameLabel: "parent", objects.KustomizeNamespaceLabel: ns}
	child.Status.Inventory = inventory(ns+"_settings__ConfigMap", "v1")
	create(t, child)
	create(t, helmRelease(ns, "db", "db", ready(metav1.ConditionFalse, "InstallFailed", "install failed: image pull")))

	code, out, errOut := weir(t, "tree", "ks", "parent", "-n", ns, "-o", "json")
	var tree treeNode
	if err := json.Unmarshal([]byte(out), &tree); code != 0 || err != nil {
		t.Fatalf("tree -o json: code %d, %q, %v:\n%s", code, errOut, err, out)
	}
	if tree.Kind != "Kustomization" || tree.Name != "parent" || tree.Status != "Current" || len(tree.Children) != 2 {
		t.Fatalf("tree -o json: root %+v", tree)
	}
	c0, c1 := tree.Children[0], tree.Children[1]
	if c0.Name != "child" || c0.Status != "Current" || len(c0.Children) != 1 || c0.Children[0].Name != "settings" || c0.Children[0].Kind != "ConfigMap" ||
		c1.Name != "gone" || c1.Status != "NotFound" {
		t.Errorf("tree -o json: children:\n%s", out)
	}

	code, out, _ = weir(t, "tree", "ks", "parent", "--deps", "-n", ns, "-o", "yaml")
	var deps treeNode
	if err := yaml.Unmarshal([]byte(out), &deps); code != 0 || err != nil || len(deps.Children) != 1 {
		t.Fatalf("tree --deps -o yaml: code %d, %v:\n%s", code, err, out)
	}
	if d := deps.Children[0]; d.Kind != "HelmRelease" || d.Ready != "Ready=False InstallFailed" || d.Blocking != "InstallFailed: install failed: image pull" {
		t.Errorf("tree --deps -o yaml: the blocking edge:\n%s", out)
	}
	code, out, _ = weir(t, "tree", "--deps", "-n", ns, "-o", "json")
	var all []treeNode
	if err := json.Unmarshal([]byte(out), &all); code != 0 || err != nil || len(all) != 2 || all[1].Children[0].Name != "db" {
		t.Errorf("tree --deps -o json without a name: want child and parent, db under parent as the text has them: code %d, %v:\n%s", code, err, out)
	}

	code, out, errOut = weir(t, "trace", "configmap/settings", "-n", ns, "-o", "json")
	var sections []map[string]string
	if err := json.Unmarshal([]byte(out), &sections); code != 0 || err != nil {
		t.Fatalf("trace -o json: code %d, %q, %v:\n%s", code, errOut, err, out)
	}
	var roles []string
	for _, s := range sections {
		roles = append(roles, s["role"]+" "+s["ref"])
	}
	want := []string{"object ConfigMap/" + ns + "/settings", "managedBy Kustomization/" + ns + "/child", "source GitRepository/" + ns + "/app",
		"managedBy Kustomization/" + ns + "/parent", "source GitRepository/" + ns + "/app"}
	if strings.Join(roles, ", ") != strings.Join(want, ", ") || sections[1]["ready"] != "True (Succeeded: applied)" || sections[2]["url"] != "https://example.com/repo.git" {
		t.Errorf("trace -o json:\n%s", out)
	}
	if code, _, errOut = weir(t, "trace", "configmap/settings", "-n", ns, "-o", "wide"); code != 1 || !strings.Contains(errOut, "unknown output format") {
		t.Errorf("trace -o wide: code %d, %q", code, errOut)
	}
}
