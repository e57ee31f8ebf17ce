package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/kustomize/build"
	"weir.dev/pkg/testenv"
)

// webFile holds a valid Service and, as its second document (line 8), a Deployment with the
// given replicas.
func webFile(replicas string) string {
	return "# the web tier\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec: {ports: [{port: 80}]}\n---\n" +
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: " + replicas + "\n" +
		"  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n" +
		"    spec:\n      containers: [{name: api, image: nginx:1.0}]\n"
}

// TestApplyErrorNamesFile: an object the API server rejects at the dry run is named with the
// file and line of its document in the artifact, first in the message, in status and event.
func TestApplyErrorNamesFile(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"apps/web/deploy.yaml": webFile("-1")})
	ks := createKustomization(t, ns, "web", "./apps/web", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	want := "apps/web/deploy.yaml:8: Deployment/" + ns + "/api: dry-run failed"
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.ApplyFailedReason, want))
	msg := readyMessage(ks)
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, "spec.replicas") || !strings.Contains(msg, "(revision main@sha1:1)") {
		t.Errorf("Ready message %q, want it to start %q and name spec.replicas and the revision", msg, want)
	}
	if _, ok := ks.GetAnnotations()["config.kubernetes.io/origin"]; ok {
		t.Error("the Kustomization carries kustomize's origin annotation")
	}
	testenv.Eventually(t, timeout, func() error {
		for _, ev := range env.Events(t, ns, ks.Name) {
			if strings.HasPrefix(ev.Message, want) {
				return nil
			}
		}
		return fmt.Errorf("no event starts %q", want)
	})
}

// readyMessage is the message of ks's Ready condition.
func readyMessage(ks *kustomizev1.Kustomization) string {
	if c := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition); c != nil {
		return c.Message
	}
	return ""
}

// liveConfigMaps lists the ConfigMaps in ns.
func liveConfigMaps(t *testing.T, ns string) []corev1.ConfigMap {
	t.Helper()
	var list corev1.ConfigMapList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// TestImmutableErrorNamesFile: an immutable field change names the file and line.
func TestImmutableErrorNamesFile(t *testing.T) {
	ns := env.Namespace(t)
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {value: x}\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {value: \"" + v + "\"}\n"
	}
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/cms.yaml": cm("1")})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")
	if v := configMapValue(t, ns, "frozen"); v != "1" {
		t.Fatalf("frozen = %q", v)
	}
	for _, o := range liveConfigMaps(t, ns) {
		if _, ok := o.Annotations["config.kubernetes.io/origin"]; ok {
			t.Errorf("ConfigMap %s carries kustomize's origin annotation", o.Name)
		}
	}
	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/cms.yaml": cm("2")})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.ApplyFailedReason,
		"app/cms.yaml:6: ConfigMap/"+ns+"/frozen: dry-run failed"))
	if msg := readyMessage(ks); !strings.Contains(msg, "immutable") {
		t.Errorf("Ready message %q does not say the field is immutable", msg)
	}
}

// TestHealthErrorNamesFile: a health check failure names the file and line of the object that
// is not healthy (no controller-manager runs, so a Deployment never becomes available).
func TestHealthErrorNamesFile(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"apps/web/deploy.yaml": webFile("1")})
	ks := createKustomization(t, ns, "web", "./apps/web", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Wait = true
		k.Spec.Timeout = &metav1.Duration{Duration: 3 * time.Second}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, kustomizev1.HealthCheckFailedCondition, metav1.ConditionTrue, meta.HealthCheckFailedReason,
		"apps/web/deploy.yaml:8: Deployment/"+ns+"/api: status: 'InProgress'"))
}

// TestWithOrigins: names are rewritten only where the message names a known object, whole.
func TestWithOrigins(t *testing.T) {
	o := build.Origins{"Deployment/web/api": "a.yaml:8", "Namespace/web": "ns.yaml:1"}
	for _, tc := range []struct{ in, want string }{
		{"Deployment/web/api dry-run failed (Invalid): x", "a.yaml:8: Deployment/web/api: dry-run failed (Invalid): x"},
		{"timeout waiting for: [Deployment/web/api status: 'InProgress', Deployment/web/other status: 'InProgress']",
			"timeout waiting for: [a.yaml:8: Deployment/web/api: status: 'InProgress', Deployment/web/other status: 'InProgress']"},
		{"Namespace/web: gone", "ns.yaml:1: Namespace/web: gone"},
		{"Deployment/web/apis failed", "Deployment/web/apis failed"},
		{"web", "web"},
	} {
		if got := withOrigins(o, tc.in); got != tc.want {
			t.Errorf("withOrigins(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestOwnershipConflictNamesFile: an object another Kustomization owns is refused naming the
// file and line it was built from.
func TestOwnershipConflictNamesFile(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"first/cm.yaml":   configMap("shared", "first"),
		"second/all.yaml": configMap("other", "second") + "---\n" + configMap("shared", "second"),
	})
	first := createKustomization(t, ns, "first", "./first", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, first, "main@sha1:1")
	second := createKustomization(t, ns, "second", "./second", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	testenv.Eventually(t, timeout, env.ObjectIn(second, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.OwnershipConflictReason,
		"second/all.yaml:8: ConfigMap "+ns+"/shared is owned by"))
}
