package cmd

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

// TestArtifactGeneratorGetAndTree: `weir get` lists ArtifactGenerators and ExternalArtifacts
// with their revisions, and `weir tree artifactgenerator` shows the artifacts and who
// consumes each.
func TestArtifactGeneratorGetAndTree(t *testing.T) {
	ns := env.Namespace(t)
	gen := &sourcev1.ArtifactGenerator{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec: sourcev1.ArtifactGeneratorSpec{
			Sources: []sourcev1.ArtifactSourceReference{{Alias: "repo", Kind: "GitRepository", Name: "fleet"}},
			Artifacts: []sourcev1.OutputArtifact{
				{Name: "apps", Copy: []sourcev1.CopyOperation{{From: "@repo/apps/**", To: "@artifact/"}}},
				{Name: "infra", Copy: []sourcev1.CopyOperation{{From: "@repo/infra/**", To: "@artifact/"}}},
			},
		},
	}
	gen.Status.Conditions = ready(metav1.ConditionTrue, meta.SucceededReason, "generated 2 artifact(s)")
	gen.Status.ObservedGeneration = 1
	gen.Status.Inventory = []sourcev1.ExternalArtifactReference{{Name: "apps"}, {Name: "infra"}}
	create(t, gen)
	isController := true
	for _, name := range []string{"apps", "infra"} {
		ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: sourcev1.GroupVersion.String(), Kind: "ArtifactGenerator", Name: "fleet", UID: gen.UID, Controller: &isController,
		}}}}
		ea.Spec.SourceRef = &meta.NamespacedObjectKindReference{Kind: "ArtifactGenerator", Name: "fleet"}
		ea.Status.Conditions = ready(metav1.ConditionTrue, meta.SucceededReason, "stored artifact")
		ea.Status.ObservedGeneration = 1
		ea.Status.Artifact = &meta.Artifact{Path: "externalartifact/" + ns + "/" + name + "/a.tar.gz", URL: "http://x/a.tar.gz",
			Revision: "latest@sha256:" + name, LastUpdateTime: metav1.Now()}
		create(t, ea)
	}
	ks := kustomization(ns, "apps", "apps", ready(metav1.ConditionTrue, meta.SucceededReason, "applied"), "latest@sha256:apps")
	ks.Spec.SourceRef = kustomizev1.CrossNamespaceSourceReference{Kind: "ExternalArtifact", Name: "apps"}
	ks.Spec.Interval = metav1.Duration{Duration: time.Hour}
	create(t, ks)

	code, out, errOut := weir(t, "get", "all", "-n", ns)
	if code != 0 {
		t.Fatalf("get all: code %d, %q", code, errOut)
	}
	for _, want := range []string{"artifactgenerator/fleet", "externalartifact/apps", "latest@sha256:infra"} {
		if !strings.Contains(out, want) {
			t.Errorf("get all lacks %q:\n%s", want, out)
		}
	}
	if code, out, errOut := weir(t, "get", "ea", "-n", ns); code != 0 || !strings.Contains(out, "latest@sha256:apps") {
		t.Errorf("get ea: code %d, %q\n%s", code, errOut, out)
	}

	code, out, errOut = weir(t, "tree", "ag", "fleet", "-n", ns)
	if code != 0 {
		t.Fatalf("tree: code %d, %q", code, errOut)
	}
	want := strings.Join([]string{
		"ArtifactGenerator/" + ns + "/fleet Current",
		"├── ExternalArtifact/" + ns + "/apps Current latest@sha256:apps",
		"│   └── Kustomization/" + ns + "/apps Current",
		"└── ExternalArtifact/" + ns + "/infra Current latest@sha256:infra",
	}, "\n")
	if got := strings.TrimSpace(out); got != want {
		t.Errorf("tree:\n%s\nwant:\n%s", got, want)
	}

	// Nothing reconciles an ExternalArtifact: reconciling one, or a Kustomization with its
	// source, reconciles the generator.
	succeeded := func() metav1.Condition {
		return metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason, Message: "done"}
	}
	generatorRuns := fakeController(t, "ArtifactGenerator", ns, "fleet", succeeded)
	fakeController(t, "Kustomization", ns, "apps", succeeded)
	if code, out, errOut := weir(t, "reconcile", "ea", "apps", "-n", ns, "--timeout", "1m"); code != 0 || generatorRuns() != 1 {
		t.Errorf("reconcile ea: code %d, generator runs %d, %q\n%s", code, generatorRuns(), errOut, out)
	}
	if code, out, errOut := weir(t, "reconcile", "ks", "apps", "--with-source", "-n", ns, "--timeout", "1m"); code != 0 || generatorRuns() != 2 {
		t.Errorf("reconcile ks --with-source: code %d, generator runs %d, %q\n%s", code, generatorRuns(), errOut, out)
	}
}
