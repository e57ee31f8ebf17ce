package controller

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// TestDependsOn: a dependent waits, naming its dependency, and is applied as soon as the
// dependency becomes Ready; a cycle is reported, not looped.
func TestDependsOn(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"infra/a.yaml": configMap("infra", "1"), "apps/b.yaml": configMap("app", "1")})
	apps := createKustomization(t, ns, "apps", "./apps", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "infra"}}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(apps, kustomizev1.DependencyNotReadyCondition, metav1.ConditionTrue, meta.DependencyNotReadyReason, "'"+ns+"/infra' not found"))
	infra := createKustomization(t, ns, "infra", "./infra", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, infra, "main@sha1:1")
	waitApplied(t, apps, "main@sha1:1")

	a := createKustomization(t, ns, "cycle-a", "./apps", func(k *kustomizev1.Kustomization) {
		k.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "cycle-b"}}
	})
	createKustomization(t, ns, "cycle-b", "./apps", func(k *kustomizev1.Kustomization) {
		k.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "cycle-a"}}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(a, meta.StalledCondition, metav1.ConditionTrue, meta.DependencyNotReadyReason, "dependency cycle Kustomization/"+ns+"/cycle-a -> Kustomization/"+ns+"/cycle-b -> Kustomization/"+ns+"/cycle-a"))
}

// TestSubstitution: variables from the spec, a ConfigMap and a Secret, with defaults, and an
// object that opts out.
func TestSubstitution(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vars"}, Data: map[string]string{"REGION": "eu"}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "secret-vars"}, StringData: map[string]string{"TIER": "gold"}}); err != nil {
		t.Fatal(err)
	}
	raw := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\n  annotations: {kustomize.weir.dev/substitute: disabled}\ndata: {value: \"${CLUSTER}\"}\n"
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/cm.yaml":  configMap("settings", "${CLUSTER}-${REGION}-${TIER}-${SIZE:=small}"),
		"app/raw.yaml": raw,
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.PostBuild = &kustomizev1.PostBuild{
			Substitute: map[string]string{"CLUSTER": "prod"},
			SubstituteFrom: []kustomizev1.SubstituteReference{
				{Kind: "ConfigMap", Name: "vars"}, {Kind: "Secret", Name: "secret-vars"}, {Kind: "ConfigMap", Name: "absent", Optional: true},
			},
		}
	})
	waitApplied(t, ks, "main@sha1:1")
	waitConfigMap(t, ns, "settings", "prod-eu-gold-small")
	waitConfigMap(t, ns, "raw", "${CLUSTER}")
}

// TestBadInput: each failure is Ready=False with a specific reason naming the file or object,
// and applies or deletes nothing.
func TestBadInput(t *testing.T) {
	unknownKind := "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n"
	cases := []struct {
		name    string
		files   map[string]string
		mutate  func(*kustomizev1.Kustomization)
		reason  string
		message string
	}{
		{name: "invalid YAML", files: map[string]string{"app/good.yaml": configMap("good", "1"), "app/broken.yaml": "kind: ConfigMap\nmetadata: {name: [\n"},
			reason: kustomizev1.BuildFailedReason, message: "broken.yaml"},
		{name: "unknown kind", files: map[string]string{"app/good.yaml": configMap("good", "1"), "app/gadget.yaml": unknownKind},
			reason: kustomizev1.ApplyFailedReason, message: "Gadget"},
		{name: "resource outside the root", files: map[string]string{"app/good.yaml": configMap("good", "1"), "app/kustomization.yaml": "resources: [good.yaml, ../../etc/passwd]\n"},
			reason: kustomizev1.BuildFailedReason, message: "../../etc/passwd"},
		{name: "missing variable", files: map[string]string{"app/good.yaml": configMap("good", "${MISSING}")},
			mutate: func(k *kustomizev1.Kustomization) {
				k.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"OTHER": "x"}}
			}, reason: kustomizev1.PostBuildFailedReason, message: "MISSING"},
		{name: "missing source", files: nil, mutate: func(k *kustomizev1.Kustomization) { k.Spec.SourceRef.Name = "nope" },
			reason: meta.DependencyNotReadyReason, message: "GitRepository '"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			if tc.files != nil {
				publish(t, ns, "repo", "main@sha1:1", tc.files)
			}
			ks := createKustomization(t, ns, "bad", "./app", func(k *kustomizev1.Kustomization) {
				k.Spec.TargetNamespace = ns
				if tc.mutate != nil {
					tc.mutate(k)
				}
			})
			testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, tc.reason, tc.message))
			if configMapValue(t, ns, "good") != "<absent>" {
				t.Error("an object was applied although the set is invalid")
			}
			if ks.Status.LastAppliedRevision != "" {
				t.Errorf("lastAppliedRevision %q after a failure", ks.Status.LastAppliedRevision)
			}
		})
	}
}

// TestArtifactServerDown: a failed download is retried and never read as an empty desired
// state: nothing is pruned.
func TestArtifactServerDown(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/a.yaml": configMap("a", "1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")

	artifacts.setDown(true)
	t.Cleanup(func() { artifacts.setDown(false) })
	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/b.yaml": configMap("b", "1")})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, kustomizev1.ArtifactFailedCondition, metav1.ConditionTrue, meta.ArtifactFailedReason, "main@sha1:2"))
	if configMapValue(t, ns, "a") != "1" {
		t.Fatal("an object was pruned while the artifact could not be fetched")
	}
	artifacts.setDown(false)
	waitApplied(t, ks, "main@sha1:2")
	waitConfigMap(t, ns, "b", "1")
	waitConfigMap(t, ns, "a", "<absent>")
}
