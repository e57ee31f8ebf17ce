package controller

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

// publishExternal archives files as the artifact of ExternalArtifact ns/name at revision and
// records it in the object's status, as an ArtifactGenerator does, creating the object if needed.
func publishExternal(t *testing.T, ns, name, revision string, files map[string]string) {
	t.Helper()
	b, digest, size := tarball(t, files)
	path := "/externalartifact/" + ns + "/" + name + "/" + digest[7:19] + ".tar.gz"
	artifacts.mu.Lock()
	artifacts.files[path] = b
	artifacts.mu.Unlock()

	ctx := context.Background()
	ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ea), ea); err != nil {
		if err := env.Client.Create(ctx, ea); err != nil {
			t.Fatal(err)
		}
	}
	ea.Status.Artifact = &meta.Artifact{
		Path: path, URL: artifacts.base + path, Revision: revision, Digest: digest,
		LastUpdateTime: metav1.Now(), Size: &size,
	}
	ea.Status.ObservedGeneration = ea.Generation
	ea.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: "stored artifact", LastTransitionTime: metav1.Now(), ObservedGeneration: ea.Generation}}
	if err := env.Client.Status().Update(ctx, ea); err != nil {
		t.Fatal(err)
	}
}

// TestKustomizationExternalArtifact: a Kustomization whose sourceRef is an ExternalArtifact
// applies its artifact, and a new revision of the ExternalArtifact is applied at once (the
// interval is 10m: only the watch can trigger it).
func TestKustomizationExternalArtifact(t *testing.T) {
	ns := env.Namespace(t)
	publishExternal(t, ns, "apps", "latest@sha256:1111", map[string]string{"cm.yaml": configMap("app", "v1")})
	ks := createKustomization(t, ns, "apps", "./", func(k *kustomizev1.Kustomization) {
		k.Spec.SourceRef = kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.ExternalArtifactKind, Name: "apps"}
		k.Spec.TargetNamespace = ns
	})
	waitApplied(t, ks, "latest@sha256:1111")
	waitConfigMap(t, ns, "app", "v1")

	publishExternal(t, ns, "apps", "latest@sha256:2222", map[string]string{"cm.yaml": configMap("app", "v2")})
	waitApplied(t, ks, "latest@sha256:2222")
	waitConfigMap(t, ns, "app", "v2")
}
