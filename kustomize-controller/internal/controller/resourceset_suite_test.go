package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/testenv"
)

// setReconciler is the running ResourceSet reconciler, beside the Kustomizations'.
var setReconciler *ResourceSetReconciler

// startSets registers the ResourceSet reconciler with the suite's manager. No helm-controller
// runs here: tests write generated HelmReleases' status as it would (settleReleases).
func startSets(ctx context.Context, mgr ctrl.Manager, e *testenv.Environment) error {
	setReconciler = &ResourceSetReconciler{
		Client: mgr.GetClient(), EventRecorder: reconciler.EventRecorder, ControllerName: "kustomize-controller",
		Artifacts: reconciler.Artifacts, Identities: reconciler.Identities, Owners: reconciler,
		DependencyRequeue: time.Second,
	}
	return setReconciler.SetupWithManager(ctx, mgr, 4)
}

// createSet creates a ResourceSet with a 10m interval, changed by mutate.
func createSet(t testing.TB, ns, name, template string, mutate func(*setsv1.ResourceSet)) *setsv1.ResourceSet {
	t.Helper()
	set := &setsv1.ResourceSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: setsv1.ResourceSetSpec{
			Template: template,
			Interval: metav1.Duration{Duration: 10 * time.Minute},
			Timeout:  &metav1.Duration{Duration: 10 * time.Minute},
		},
	}
	if mutate != nil {
		mutate(set)
	}
	if err := env.Client.Create(context.Background(), set); err != nil {
		t.Fatal(err)
	}
	return set
}

// updateSet reads set, applies mutate and writes it back, retrying conflicts.
func updateSet(t testing.TB, set *setsv1.ResourceSet, mutate func(*setsv1.ResourceSet)) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(set), set); err != nil {
			return err
		}
		mutate(set)
		return env.Client.Update(context.Background(), set)
	})
}

// listOf makes literal inputs from JSON objects.
func listOf(items ...string) []apiextensionsv1.JSON {
	out := make([]apiextensionsv1.JSON, len(items))
	for i, s := range items {
		out[i] = apiextensionsv1.JSON{Raw: []byte(s)}
	}
	return out
}

// waitSetReady waits until set is Ready at its current generation, and returns it.
func waitSetReady(t testing.TB, set *setsv1.ResourceSet) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(set), set); err != nil {
			return err
		}
		c := apimeta.FindStatusCondition(set.Status.Conditions, meta.ReadyCondition)
		if c == nil || c.Status != metav1.ConditionTrue || set.Status.ObservedGeneration != set.Generation {
			return fmt.Errorf("set not Ready at generation %d: %+v", set.Generation, c)
		}
		return nil
	})
}

// settleReleases does what helm-controller would for the HelmReleases of ns not yet
// reconciled at their generation: Ready=True, or Ready=False (InstallFailed) when their chart
// version is bad. It returns how many it settled.
func settleReleases(t testing.TB, ns, bad string) int {
	t.Helper()
	var list helmv1.HelmReleaseList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range list.Items {
		hr := &list.Items[i]
		if c := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition); c != nil && c.ObservedGeneration == hr.Generation {
			continue
		}
		cond := metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: "InstallSucceeded",
			Message: "installed", ObservedGeneration: hr.Generation, LastTransitionTime: metav1.Now()}
		if hr.Spec.Chart != nil && hr.Spec.Chart.Spec.Version == bad {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "InstallFailed", "chart version "+bad+" not found"
		}
		hr.Status.Conditions = []metav1.Condition{cond}
		hr.Status.ObservedGeneration = hr.Generation
		if err := env.Client.Status().Update(context.Background(), hr); err == nil {
			n++
		}
	}
	return n
}

// releaseVersions counts the HelmReleases of ns by chart version.
func releaseVersions(t testing.TB, ns string) map[string]int {
	t.Helper()
	var list helmv1.HelmReleaseList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, hr := range list.Items {
		out[hr.Spec.Chart.Spec.Version]++
	}
	return out
}

// condition returns the condition of type typ of set, read afresh, or nil.
func setCondition(t testing.TB, set *setsv1.ResourceSet, typ string) *metav1.Condition {
	t.Helper()
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(set), set); err != nil {
		t.Fatal(err)
	}
	return apimeta.FindStatusCondition(set.Status.Conditions, typ)
}

func mustContain(t testing.TB, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Fatalf("%s %q does not contain %q", what, s, sub)
		}
	}
}

// requestSetReconcile asks for a reconcile of set with token and waits until a run handled it.
func requestSetReconcile(t testing.TB, set *setsv1.ResourceSet, token string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(set), set); err != nil {
			return err
		}
		if set.Status.LastHandledReconcileAt == token {
			return nil
		}
		if set.Annotations[meta.ReconcileRequestAnnotation] != token {
			if set.Annotations == nil {
				set.Annotations = map[string]string{}
			}
			set.Annotations[meta.ReconcileRequestAnnotation] = token
			if err := env.Client.Update(context.Background(), set); err != nil {
				return err
			}
		}
		return fmt.Errorf("reconcile request %q not handled yet", token)
	})
}
