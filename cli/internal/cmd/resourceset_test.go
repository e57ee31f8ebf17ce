package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	setsv1 "weir.dev/api/sets/v1"
)

// TestGetAndTreeResourceSet: `weir get rset` lists ResourceSets with their Ready message and
// revision, and `weir tree rset` shows the objects a set generated.
func TestGetAndTreeResourceSet(t *testing.T) {
	ns := env.Namespace(t)
	if err := env.Client.Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-a"}}); err != nil {
		t.Fatal(err)
	}
	set := &setsv1.ResourceSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team-apps"},
		Spec: setsv1.ResourceSetSpec{Interval: metav1.Duration{Duration: time.Hour}, Template: "x",
			Generators: []setsv1.Generator{{Directories: &setsv1.PathGenerator{Paths: []string{"teams/*"}}}}},
		Status: setsv1.ResourceSetStatus{
			ObservedGeneration:  1,
			Conditions:          ready(metav1.ConditionTrue, setsv1.ReconciliationSucceededReason, "2 inputs applied at revision main@sha1:abc/sha256:0123"),
			LastAppliedRevision: "main@sha1:abc/sha256:0123",
			Inventory:           inventory(ns+"_cm-a__ConfigMap", "v1", ns+"_team-b_kustomize.weir.dev_Kustomization", "v1"),
		},
	}
	create(t, set)

	code, out, errOut := weir(t, "get", "rset", "-n", ns)
	if code != 0 || !strings.Contains(out, "team-apps") || !strings.Contains(out, "2 inputs applied") || !strings.Contains(out, "main@sha1:abc") {
		t.Fatalf("get rset: code %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = weir(t, "tree", "resourceset", "team-apps", "-n", ns)
	if code != 0 || !strings.Contains(out, "ResourceSet/"+ns+"/team-apps") || !strings.Contains(out, "ConfigMap/"+ns+"/cm-a") ||
		!strings.Contains(out, "Kustomization/"+ns+"/team-b NotFound") {
		t.Fatalf("tree rset: code %d\n%s\n%s", code, out, errOut)
	}
}
