package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// helmRelease creates a HelmRelease (no helm-controller runs here: its status is the test's).
func helmRelease(t *testing.T, ns, name string, labels map[string]string, deps ...helmv1.DependencyReference) *helmv1.HelmRelease {
	t.Helper()
	hr := &helmv1.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: helmv1.HelmReleaseSpec{
			ChartRef:  &helmv1.CrossNamespaceSourceReference{Kind: "HelmChart", Name: "chart"},
			Interval:  metav1.Duration{Duration: time.Minute},
			DependsOn: deps,
		},
	}
	if err := env.Client.Create(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

// setHelmReleaseReady writes hr's Ready condition at its generation, as helm-controller does.
func setHelmReleaseReady(t *testing.T, hr *helmv1.HelmRelease, status metav1.ConditionStatus, reason, msg string) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hr), hr); err != nil {
		t.Fatal(err)
	}
	hr.Status.ObservedGeneration = hr.Generation
	hr.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: status, Reason: reason, Message: msg,
		ObservedGeneration: hr.Generation, LastTransitionTime: metav1.Now()}}
	if err := env.Client.Status().Update(ctx, hr); err != nil {
		t.Fatal(err)
	}
}

// TestDependsOnHelmRelease: a Kustomization waits for a HelmRelease, saying which, in which
// state and since when, and is applied once the HelmRelease is Ready.
func TestDependsOnHelmRelease(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"apps/b.yaml": configMap("app", "1")})
	db := helmRelease(t, ns, "db", nil)
	setHelmReleaseReady(t, db, metav1.ConditionFalse, "InstallFailed", "install failed: image pull")
	apps := createKustomization(t, ns, "apps", "./apps", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.DependsOn = []kustomizev1.DependencyReference{{Kind: helmv1.HelmReleaseKind, Name: "db"}}
	})
	want := "dependency HelmRelease '" + ns + "/db' is not ready (Ready=False since 20"
	testenv.Eventually(t, timeout, env.ObjectIn(apps, meta.ReadyCondition, metav1.ConditionFalse, meta.DependencyNotReadyReason, want))
	testenv.Eventually(t, timeout, env.ObjectIn(apps, kustomizev1.DependencyNotReadyCondition, metav1.ConditionTrue, meta.DependencyNotReadyReason, want))
	if err := testenv.CheckCondition(apps, meta.ReadyCondition, metav1.ConditionFalse, meta.DependencyNotReadyReason, "Z): InstallFailed: install failed: image pull"); err != nil {
		t.Error(err)
	}
	if got := configMapValue(t, ns, "app"); got != "<absent>" {
		t.Fatalf("ConfigMap app applied before its dependency was ready: %q", got)
	}

	setHelmReleaseReady(t, db, metav1.ConditionTrue, "InstallSucceeded", "installed")
	waitApplied(t, apps, "main@sha1:1")
	waitConfigMap(t, ns, "app", "1")
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(apps), apps); err != nil {
			return err
		}
		for _, c := range apps.Status.Conditions {
			if c.Type == kustomizev1.DependencyNotReadyCondition {
				return fmt.Errorf("DependencyNotReady still present: %s", c.Message)
			}
		}
		return nil
	})
}

// TestDependsOnReadyExpr: readyExpr decides in place of Ready: true applies although the
// dependency is not Ready, false waits naming the expression, and an expression that does not
// compile stalls naming it.
func TestDependsOnReadyExpr(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"a/a.yaml": configMap("a", "1"), "b/b.yaml": configMap("b", "1"), "c/c.yaml": configMap("c", "1")})
	db := helmRelease(t, ns, "db", map[string]string{"app/version": "v1"})
	setHelmReleaseReady(t, db, metav1.ConditionFalse, "UpgradeFailed", "timed out")
	version := func(v string) func(*kustomizev1.Kustomization) {
		return func(k *kustomizev1.Kustomization) {
			k.Labels = map[string]string{"app/version": v}
			k.Spec.TargetNamespace = ns
		}
	}
	sameVersion := "dep.metadata.labels['app/version'] == self.metadata.labels['app/version']"

	matching := createKustomization(t, ns, "matching", "./a", func(k *kustomizev1.Kustomization) {
		version("v1")(k)
		k.Spec.DependsOn = []kustomizev1.DependencyReference{{Kind: helmv1.HelmReleaseKind, Name: "db", ReadyExpr: sameVersion}}
	})
	waitApplied(t, matching, "main@sha1:1")

	ahead := createKustomization(t, ns, "ahead", "./b", func(k *kustomizev1.Kustomization) {
		version("v2")(k)
		k.Spec.DependsOn = []kustomizev1.DependencyReference{{Kind: helmv1.HelmReleaseKind, Name: "db", ReadyExpr: sameVersion}}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(ahead, meta.ReadyCondition, metav1.ConditionFalse, meta.DependencyNotReadyReason,
		"dependency HelmRelease '"+ns+"/db' is not ready (Ready=False since 20"))
	if err := testenv.CheckCondition(ahead, meta.ReadyCondition, metav1.ConditionFalse, meta.DependencyNotReadyReason, "Z): readyExpr '"+sameVersion+"' is false"); err != nil {
		t.Error(err)
	}
	if got := configMapValue(t, ns, "b"); got != "<absent>" {
		t.Fatalf("ConfigMap b applied while readyExpr is false: %q", got)
	}
	// The dependency moves to v2: the expression becomes true.
	db.Labels["app/version"] = "v2"
	if err := env.Client.Update(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	waitApplied(t, ahead, "main@sha1:1")

	invalid := createKustomization(t, ns, "invalid", "./c", func(k *kustomizev1.Kustomization) {
		k.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "matching", ReadyExpr: "dep.status.conditions.exists(c, c.type == 'Ready'"}}
	})
	want := "spec.dependsOn[0].readyExpr of Kustomization '" + ns + "/matching' is invalid"
	testenv.Eventually(t, timeout, env.ObjectIn(invalid, meta.StalledCondition, metav1.ConditionTrue, meta.InvalidSpecReason, want))
	testenv.Eventually(t, timeout, env.ObjectIn(invalid, meta.ReadyCondition, metav1.ConditionFalse, meta.InvalidSpecReason, "dep.status.conditions.exists(c, c.type == 'Ready'"))
	if got := configMapValue(t, ns, "c"); got != "<absent>" {
		t.Fatalf("ConfigMap c applied with an invalid readyExpr: %q", got)
	}
}

// TestDependsOnCycleAcrossKinds: Kustomization k -> HelmRelease hr -> Kustomization k is
// refused by name, and nothing is applied.
func TestDependsOnCycleAcrossKinds(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"a/a.yaml": configMap("a", "1")})
	hr := helmRelease(t, ns, "hr", nil, helmv1.DependencyReference{Kind: kustomizev1.KustomizationKind, Name: "k"})
	setHelmReleaseReady(t, hr, metav1.ConditionTrue, "InstallSucceeded", "installed")
	k := createKustomization(t, ns, "k", "./a", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.DependsOn = []kustomizev1.DependencyReference{{Kind: helmv1.HelmReleaseKind, Name: "hr"}}
	})
	want := fmt.Sprintf("dependency cycle Kustomization/%[1]s/k -> HelmRelease/%[1]s/hr -> Kustomization/%[1]s/k", ns)
	testenv.Eventually(t, timeout, env.ObjectIn(k, meta.StalledCondition, metav1.ConditionTrue, meta.DependencyNotReadyReason, want))
	if got := configMapValue(t, ns, "a"); got != "<absent>" {
		t.Fatalf("ConfigMap a applied despite the cycle: %q", got)
	}
}
