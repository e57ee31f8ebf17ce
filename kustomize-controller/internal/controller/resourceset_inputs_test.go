package controller

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/testenv"
)

// configMapTemplate renders one ConfigMap per input: its name, and its value.
const configMapTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ .name }}
data:
  value: {{ .value | quote }}
`

func setInventoryIDs(set *setsv1.ResourceSet) map[string]bool {
	ids := map[string]bool{}
	for _, e := range inventoryEntries(set.Status.Inventory) {
		ids[e.ID] = true
	}
	return ids
}

// TestSetInputRemovedWithAndWithoutPrune: without prune, the objects of an input that
// disappeared are left in place and no longer tracked; with prune they are deleted, and only
// theirs.
func TestSetInputRemovedWithAndWithoutPrune(t *testing.T) {
	ns := env.Namespace(t)
	set := createSet(t, ns, "apps", configMapTemplate, func(s *setsv1.ResourceSet) {
		s.Spec.Generators = []setsv1.Generator{{List: listOf(`{"name":"a","value":"1"}`, `{"name":"b","value":"2"}`, `{"name":"c","value":"3"}`)}}
	})
	waitSetReady(t, set)
	for _, n := range []string{"a", "b", "c"} {
		waitConfigMap(t, ns, "cm-"+n, n2v(n))
	}

	updateSet(t, set, func(s *setsv1.ResourceSet) {
		s.Spec.Generators = []setsv1.Generator{{List: listOf(`{"name":"a","value":"1"}`, `{"name":"b","value":"2"}`)}}
	})
	waitSetReady(t, set)
	if got := configMapValue(t, ns, "cm-c"); got != "3" {
		t.Fatalf("without prune, cm-c is %q, want it left in place", got)
	}
	if ids := setInventoryIDs(set); ids[ns+"_cm-c__ConfigMap"] || len(ids) != 2 {
		t.Fatalf("inventory %v, want cm-a and cm-b only", ids)
	}

	updateSet(t, set, func(s *setsv1.ResourceSet) {
		s.Spec.Prune = true
		s.Spec.Generators = []setsv1.Generator{{List: listOf(`{"name":"a","value":"1"}`)}}
	})
	waitSetReady(t, set)
	waitConfigMap(t, ns, "cm-b", "<absent>")
	if got := configMapValue(t, ns, "cm-a"); got != "1" {
		t.Fatalf("cm-a is %q", got)
	}
	if got := configMapValue(t, ns, "cm-c"); got != "3" {
		t.Fatalf("cm-c, no longer tracked, is %q: prune must not delete it", got)
	}
}

func n2v(n string) string { return map[string]string{"a": "1", "b": "2", "c": "3"}[n] }

// TestSetMatrix: a matrix of a literal list and the files of an artifact makes one object per
// pair, with both inputs' keys.
func TestSetMatrix(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"clusters/eu.yaml": "region: eu\n",
		"clusters/us.yaml": "- region: us-east\n- region: us-west\n",
	})
	set := createSet(t, ns, "matrix", `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .app }}-{{ .region }}
data:
  value: {{ printf "%s in %s from %s" .app .region .path | quote }}
`, func(s *setsv1.ResourceSet) {
		s.Spec.SourceRef = &setsv1.SourceReference{Kind: "GitRepository", Name: "repo"}
		s.Spec.Generators = []setsv1.Generator{{Matrix: &setsv1.MatrixGenerator{Generators: []setsv1.InputGenerator{
			{List: listOf(`{"name":"web","app":"web"}`, `{"name":"api","app":"api"}`)},
			{Files: &setsv1.PathGenerator{Paths: []string{"clusters/*.yaml"}}},
		}}}}
	})
	waitSetReady(t, set)
	for _, app := range []string{"web", "api"} {
		waitConfigMap(t, ns, app+"-eu", app+" in eu from clusters/eu.yaml")
		waitConfigMap(t, ns, app+"-us-east", app+" in us-east from clusters/us.yaml")
		waitConfigMap(t, ns, app+"-us-west", app+" in us-west from clusters/us.yaml")
	}
	if len(set.Status.Inputs) != 6 || set.Status.Inputs[0].Name != "api+clusters/eu.yaml" {
		t.Fatalf("inputs %+v", set.Status.Inputs)
	}
}

// TestSetInvalidYAMLFailsOnlyThatInput: an input whose rendering is not valid YAML fails
// alone, named with the document at fault; the others are applied, and its own object keeps
// its previous spec (it is neither changed nor pruned).
func TestSetInvalidYAMLFailsOnlyThatInput(t *testing.T) {
	ns := env.Namespace(t)
	// The value is quoted by hand, so a value with a quote breaks the YAML.
	set := createSet(t, ns, "apps", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{{ .name }}\ndata:\n  value: \"{{ .value }}\"\n", func(s *setsv1.ResourceSet) {
		s.Spec.Prune = true
		s.Spec.Generators = []setsv1.Generator{{List: listOf(`{"name":"a","value":"1"}`, `{"name":"b","value":"2"}`)}}
	})
	waitSetReady(t, set)
	waitConfigMap(t, ns, "cm-b", "2")

	updateSet(t, set, func(s *setsv1.ResourceSet) {
		s.Spec.Generators = []setsv1.Generator{{List: listOf(`{"name":"a","value":"10"}`, `{"name":"b","value":"x\": [y"}`)}}
	})
	testenv.Eventually(t, timeout, func() error {
		c := setCondition(t, set, setsv1.RenderFailedCondition)
		if c == nil || set.Status.ObservedGeneration != set.Generation {
			return fmt.Errorf("no RenderFailed at generation %d", set.Generation)
		}
		return nil
	})
	c := setCondition(t, set, meta.ReadyCondition)
	mustContain(t, "Ready message", c.Message, "1 of 2 inputs did not render", "input b: rendered document 1 is not valid YAML")
	if c.Status != metav1.ConditionFalse || c.Reason != setsv1.RenderFailedReason {
		t.Fatalf("Ready %+v", c)
	}
	waitConfigMap(t, ns, "cm-a", "10")
	if got := configMapValue(t, ns, "cm-b"); got != "2" {
		t.Fatalf("cm-b is %q, want its previous value 2", got)
	}
	var rec *setsv1.InputStatus
	for i := range set.Status.Inputs {
		if set.Status.Inputs[i].Name == "b" {
			rec = &set.Status.Inputs[i]
		}
	}
	if rec == nil || rec.Error == "" || len(rec.Objects) != 1 {
		t.Fatalf("input b's record %+v, want its error and its object", rec)
	}
	if !setInventoryIDs(set)[ns+"_cm-b__ConfigMap"] {
		t.Fatalf("cm-b left the inventory: %v", setInventoryIDs(set))
	}
}

// TestSetNeverTakesAnotherOwnersObject: an object another set still owns is refused for that
// input only, naming the owner; the owner's object is not changed.
func TestSetNeverTakesAnotherOwnersObject(t *testing.T) {
	ns := env.Namespace(t)
	first := createSet(t, ns, "first", configMapTemplate, func(s *setsv1.ResourceSet) {
		s.Spec.Generators = []setsv1.Generator{{List: listOf(`{"name":"shared","value":"first"}`)}}
	})
	waitSetReady(t, first)
	second := createSet(t, ns, "second", configMapTemplate, func(s *setsv1.ResourceSet) {
		s.Spec.Generators = []setsv1.Generator{{List: listOf(`{"name":"shared","value":"second"}`, `{"name":"own","value":"second"}`)}}
	})
	testenv.Eventually(t, timeout, func() error {
		c := setCondition(t, second, setsv1.ApplyFailedCondition)
		if c == nil || c.Reason != setsv1.OwnershipConflictReason {
			return fmt.Errorf("ApplyFailed %+v", c)
		}
		mustContain(t, "ApplyFailed message", c.Message, "input shared", "ConfigMap "+ns+"/cm-shared is owned by ResourceSet "+ns+"/first")
		return nil
	})
	waitConfigMap(t, ns, "cm-own", "second")
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "cm-shared"}, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data["value"] != "first" || cm.Labels[setsv1.OwnerNameLabel] != "first" {
		t.Fatalf("the first set's object was changed: %v %v", cm.Data, cm.Labels)
	}
}

// TestKustomizationRefusesASetsObject: a Kustomization that builds an object a ResourceSet
// still holds is refused (OwnershipConflict, naming the set), and the object is not changed.
func TestKustomizationRefusesASetsObject(t *testing.T) {
	ns := env.Namespace(t)
	set := createSet(t, ns, "apps", configMapTemplate, func(s *setsv1.ResourceSet) {
		s.Spec.Generators = []setsv1.Generator{{List: listOf(`{"name":"x","value":"from-set"}`)}}
	})
	waitSetReady(t, set)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"cm.yaml": configMap("cm-x", "from-ks")})
	ks := createKustomization(t, ns, "ks", "", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	testenv.Eventually(t, timeout, env.ObjectIn(ks, kustomizev1.ApplyFailedCondition, metav1.ConditionTrue, kustomizev1.OwnershipConflictReason,
		"ConfigMap "+ns+"/cm-x is owned by ResourceSet "+ns+"/apps"))
	if got := configMapValue(t, ns, "cm-x"); got != "from-set" {
		t.Fatalf("cm-x is %q, want the set's value", got)
	}
}
