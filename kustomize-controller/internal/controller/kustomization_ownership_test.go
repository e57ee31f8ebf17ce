package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// TestOwnershipConflict: a second Kustomization building a ConfigMap the first one applied is
// refused, naming the first, and applies nothing; the first stays Ready and keeps its data
// through several runs of both; deleting the second leaves the first's ConfigMap alone.
func TestOwnershipConflict(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"first/cm.yaml":     configMap("shared", "first"),
		"second/cm.yaml":    configMap("shared", "second"),
		"second/other.yaml": configMap("other", "second"),
	})
	first := createKustomization(t, ns, "first", "./first", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, first, "main@sha1:1")
	uid := configMapUID(t, ns, "shared")

	second := createKustomization(t, ns, "second", "./second", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	want := fmt.Sprintf("ConfigMap %s/shared is owned by Kustomization %s/first", ns, ns)
	testenv.Eventually(t, timeout, env.ObjectIn(second, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.OwnershipConflictReason, want))
	if err := testenv.CheckCondition(second, kustomizev1.ApplyFailedCondition, metav1.ConditionTrue, kustomizev1.OwnershipConflictReason, "Nothing was applied"); err != nil {
		t.Error(err)
	}
	waitEvent(t, ns, "second", kustomizev1.OwnershipConflictReason, want)

	for round := range 3 {
		reconcileAndWait(t, second)
		reconcileAndWait(t, first)
		if err := testenv.CheckCondition(first, meta.ReadyCondition, metav1.ConditionTrue, "", ""); err != nil {
			t.Fatalf("round %d: the owner: %v", round, err)
		}
		if err := testenv.CheckCondition(second, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.OwnershipConflictReason, want); err != nil {
			t.Fatalf("round %d: the newcomer: %v", round, err)
		}
		if got := configMapValue(t, ns, "shared"); got != "first" {
			t.Fatalf("round %d: the shared ConfigMap has the value %q, want the owner's", round, got)
		}
		if got := configMapOwner(t, ns, "shared"); got != ns+"/first" {
			t.Fatalf("round %d: the shared ConfigMap is labelled as owned by %s", round, got)
		}
		if got := configMapValue(t, ns, "other"); got != "<absent>" {
			t.Fatalf("round %d: the refused set was partly applied: other = %q", round, got)
		}
	}
	if n := inventoryLen(second.Status.Inventory); n != 0 {
		t.Errorf("the refused Kustomization's inventory has %d entries: %+v", n, second.Status.Inventory)
	}

	if err := env.Client.Delete(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	waitGone(t, second)
	reconcileAndWait(t, first)
	if got := configMapValue(t, ns, "shared"); got != "first" {
		t.Errorf("after the newcomer's deletion the ConfigMap's value is %q, want the owner's", got)
	}
	if configMapUID(t, ns, "shared") != uid {
		t.Error("the owner's ConfigMap was deleted and created again")
	}
}

// TestOwnershipAdoptWhenReleased: an object whose labelled owner no longer lists it (it left
// that Kustomization's Git, which was set not to prune it), whose owner is gone, or which only
// Flux's labels claim, is adopted in place by the Kustomization that builds it now.
func TestOwnershipAdoptWhenReleased(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"a/moved.yaml": configMap("moved", "a"), "a/stays.yaml": configMap("stays", "a"),
		"c/orphan.yaml": configMap("orphan", "c"),
	})
	a := createKustomization(t, ns, "a", "./a", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Prune = false
	})
	c := createKustomization(t, ns, "c", "./c", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.DeletionPolicy = kustomizev1.DeletionPolicyOrphan
	})
	waitApplied(t, a, "main@sha1:1")
	waitApplied(t, c, "main@sha1:1")
	moved, orphan := configMapUID(t, ns, "moved"), configMapUID(t, ns, "orphan")
	if err := env.Client.Delete(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	waitGone(t, c)

	// Flux's ownership labels are not Weir's: migrating from Flux adopts the object.
	flux := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "flux", Labels: map[string]string{
			"kustomize.toolkit.fluxcd.io/name": "a", "kustomize.toolkit.fluxcd.io/namespace": ns,
		}},
		Data: map[string]string{"value": "flux"},
	}
	if err := env.Client.Create(context.Background(), flux); err != nil {
		t.Fatal(err)
	}

	publish(t, ns, "repo", "main@sha1:2", map[string]string{
		"a/stays.yaml": configMap("stays", "a"),
		"b/moved.yaml": configMap("moved", "b"), "b/orphan.yaml": configMap("orphan", "b"), "b/flux.yaml": configMap("flux", "b"),
	})
	waitApplied(t, a, "main@sha1:2")
	b := createKustomization(t, ns, "b", "./b", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, b, "main@sha1:2")
	for name, uid := range map[string]types.UID{"moved": moved, "orphan": orphan, "flux": flux.UID} {
		if got := configMapValue(t, ns, name); got != "b" {
			t.Errorf("%s has the value %q, want b's", name, got)
		}
		if got := configMapOwner(t, ns, name); got != ns+"/b" {
			t.Errorf("%s is labelled as owned by %s, want %s/b", name, got, ns)
		}
		if configMapUID(t, ns, name) != uid {
			t.Errorf("%s was deleted and created again instead of adopted", name)
		}
	}
}

// TestOwnershipSharedAnnotation: an object annotated kustomize.weir.dev/ownership: shared by
// its owner may be applied by another Kustomization that builds it with the annotation too.
func TestOwnershipSharedAnnotation(t *testing.T) {
	ns := env.Namespace(t)
	shared := func(value string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: common\n  annotations: {kustomize.weir.dev/ownership: shared}\ndata: {value: " + value + "}\n"
	}
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"first/cm.yaml": shared("first"), "second/cm.yaml": shared("second"),
	})
	first := createKustomization(t, ns, "first", "./first", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, first, "main@sha1:1")
	second := createKustomization(t, ns, "second", "./second", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, second, "main@sha1:1")
	waitConfigMap(t, ns, "common", "second")
	reconcileAndWait(t, first)
	if err := testenv.CheckCondition(first, meta.ReadyCondition, metav1.ConditionTrue, "", ""); err != nil {
		t.Error(err)
	}
	waitConfigMap(t, ns, "common", "first")
}

// reconcileAndWait requests a reconcile of ks and waits until it was handled; ks is then
// current.
func reconcileAndWait(t *testing.T, ks *kustomizev1.Kustomization) {
	t.Helper()
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks); err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, ks)
	token := ks.GetAnnotations()[meta.ReconcileRequestAnnotation]
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks); err != nil {
			return err
		}
		if ks.Status.LastHandledReconcileAt != token {
			return fmt.Errorf("%s has not handled the reconcile request %s yet", ks.Name, token)
		}
		return nil
	})
}

func getConfigMap(t *testing.T, ns, name string) *corev1.ConfigMap {
	t.Helper()
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
		t.Fatal(err)
	}
	return &cm
}

func configMapUID(t *testing.T, ns, name string) types.UID { return getConfigMap(t, ns, name).UID }

// configMapOwner is the namespace/name the ConfigMap's ownership labels name.
func configMapOwner(t *testing.T, ns, name string) string {
	l := getConfigMap(t, ns, name).Labels
	return l[OwnerGroup+"/namespace"] + "/" + l[OwnerGroup+"/name"]
}

// TestOwnershipHandover: an object added to B while A applies it is refused to B; removed from
// A (which prunes), A hands it over instead of deleting it, B adopts it in place, and A's later
// runs leave it alone.
func TestOwnershipHandover(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"a/moved.yaml": configMap("moved", "a"), "a/stays.yaml": configMap("stays", "a"),
	})
	a := createKustomization(t, ns, "a", "./a", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, a, "main@sha1:1")
	uid := configMapUID(t, ns, "moved")

	publish(t, ns, "repo", "main@sha1:2", map[string]string{
		"a/moved.yaml": configMap("moved", "a"), "a/stays.yaml": configMap("stays", "a"),
		"b/moved.yaml": configMap("moved", "b"),
	})
	b := createKustomization(t, ns, "b", "./b", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	testenv.Eventually(t, timeout, env.ObjectIn(b, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.OwnershipConflictReason,
		fmt.Sprintf("ConfigMap %s/moved is owned by Kustomization %s/a", ns, ns)))
	waitApplied(t, a, "main@sha1:2")

	publish(t, ns, "repo", "main@sha1:3", map[string]string{
		"a/stays.yaml": configMap("stays", "a"), "b/moved.yaml": configMap("moved", "b"),
	})
	waitApplied(t, a, "main@sha1:3")
	waitApplied(t, b, "main@sha1:3")
	if got := configMapOwner(t, ns, "moved"); got != ns+"/b" {
		t.Errorf("moved is labelled as owned by %s, want %s/b", got, ns)
	}
	if configMapUID(t, ns, "moved") != uid {
		t.Fatal("moved was deleted and created again instead of handed over")
	}
	waitNormalEvent(t, ns, "a", kustomizev1.OwnershipHandedOverReason, fmt.Sprintf("ConfigMap %s/moved to Kustomization %s/b", ns, ns))
	reconcileAndWait(t, a)
	if err := testenv.CheckCondition(a, meta.ReadyCondition, metav1.ConditionTrue, "", ""); err != nil {
		t.Error(err)
	}
	if got := configMapValue(t, ns, "moved"); got != "b" || configMapUID(t, ns, "moved") != uid {
		t.Errorf("after A's next run moved has the value %q (want b's) or a new UID", got)
	}
}

// waitNormalEvent waits for an event (of any type) about ns/name with reason and a message
// containing msg.
func waitNormalEvent(t *testing.T, ns, name, reason, msg string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		for _, ev := range env.Events(t, ns, name) {
			if ev.Reason == reason && strings.Contains(ev.Message, msg) {
				return nil
			}
		}
		return fmt.Errorf("no %s event about %s containing %q", reason, name, msg)
	})
}

// TestOwnershipHelm: an object Helm rendered (Helm's managed-by label and release annotations)
// is refused while Helm has a record of its release, naming the HelmRelease the record is
// labelled with, and adopted once the release is uninstalled; an object labelled as owned by
// a HelmRelease is refused while that HelmRelease exists.
func TestOwnershipHelm(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	release := ns // release names are looked up in every namespace: one of this test's own
	rendered := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rendered",
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "Helm"},
			Annotations: map[string]string{"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": ns}},
		Data: map[string]string{"value": "helm"},
	}
	record := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sh.helm.release.v1." + release + ".v1", Labels: map[string]string{
			"owner": "helm", "name": release, "status": "deployed", "version": "1",
			"helm.weir.dev/name": "web", "helm.weir.dev/namespace": ns,
		}},
		Type: "helm.sh/release.v1",
		Data: map[string][]byte{"release": []byte("opaque")},
	}
	chart := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "chart-owned",
			Labels: map[string]string{"helm.weir.dev/name": "web", "helm.weir.dev/namespace": ns}},
		Data: map[string]string{"value": "helm"},
	}
	hr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "helm.weir.dev/v1", "kind": "HelmRelease",
		"metadata": map[string]any{"namespace": ns, "name": "web"},
		"spec": map[string]any{"interval": "10m", "suspend": true, "chart": map[string]any{"spec": map[string]any{
			"chart": "web", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "charts"}}}},
	}}
	for _, o := range []client.Object{rendered, record, chart, hr} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"k/rendered.yaml": configMap("rendered", "ks")})
	ks := createKustomization(t, ns, "k", "./k", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.OwnershipConflictReason,
		fmt.Sprintf("ConfigMap %s/rendered is owned by Helm release %s/%s (HelmRelease %s/web)", ns, ns, release, ns)))
	if got := configMapValue(t, ns, "rendered"); got != "helm" {
		t.Errorf("the Helm-rendered ConfigMap was changed: %q", got)
	}

	record.Labels["status"] = "uninstalled"
	if err := env.Client.Update(ctx, record); err != nil {
		t.Fatal(err)
	}
	waitApplied(t, ks, "main@sha1:1")
	waitConfigMap(t, ns, "rendered", "ks")

	publish(t, ns, "repo", "main@sha1:2", map[string]string{"k/chart.yaml": configMap("chart-owned", "ks")})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.OwnershipConflictReason,
		fmt.Sprintf("ConfigMap %s/chart-owned is owned by HelmRelease %s/web", ns, ns)))
	if err := env.Client.Delete(ctx, hr); err != nil {
		t.Fatal(err)
	}
	waitApplied(t, ks, "main@sha1:2")
	waitConfigMap(t, ns, "chart-owned", "ks")
}
