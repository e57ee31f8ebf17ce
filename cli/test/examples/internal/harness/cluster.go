package harness

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/local"
	"weir.dev/pkg/testenv"
)

// ExamplesDir returns the checkout's docs/examples.
func ExamplesDir(t *testing.T) string {
	t.Helper()
	root := local.FindRepoRoot(".")
	if abs, err := filepath.Abs("."); err == nil {
		root = local.FindRepoRoot(abs)
	}
	if root == "" {
		t.Fatal("no go.work above the working directory")
	}
	return filepath.Join(root, "docs", "examples")
}

// Build returns the objects `kustomize build dir` (and so `kubectl apply -k dir`) makes.
func Build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objects []*unstructured.Unstructured
	for _, r := range resources.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, u)
	}
	return objects
}

// Apply applies the objects of `kustomize build dir` with server-side apply, as
// `kubectl apply -k dir --server-side` does, and returns them.
func Apply(t *testing.T, c client.Client, dir string) []*unstructured.Unstructured {
	t.Helper()
	objects := Build(t, dir)
	for _, u := range objects {
		err := c.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u.DeepCopy()),
			client.FieldOwner("kubectl"), client.ForceOwnership)
		if err != nil {
			t.Fatalf("applying %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
	return objects
}

// Conditioned is a Weir object with status conditions.
type Conditioned = testenv.Conditioned

// ReadyErr returns nil when o's Ready condition is True for its generation, or why not.
func ReadyErr(o Conditioned) error {
	ready := apimeta.FindStatusCondition(o.GetConditions(), meta.ReadyCondition)
	switch {
	case ready == nil:
		return fmt.Errorf("no Ready condition yet")
	case ready.ObservedGeneration != o.GetGeneration():
		return fmt.Errorf("generation %d not observed yet (Ready: %s: %s)", o.GetGeneration(), ready.Reason, ready.Message)
	case ready.Status != metav1.ConditionTrue:
		return fmt.Errorf("Ready=%s %s: %s", ready.Status, ready.Reason, ready.Message)
	}
	return nil
}

// WaitReady waits until the object o names (its namespace and name) is Ready and check, if
// any, passes on it; o holds the last version read.
func WaitReady(t *testing.T, c client.Client, o Conditioned, timeout time.Duration, check func() error) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(o), o); err != nil {
			return err
		}
		if err := ReadyErr(o); err != nil {
			return fmt.Errorf("%T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
		}
		if check != nil {
			return check()
		}
		return nil
	})
}

// RequestReconcile asks for an immediate reconcile of the object o names, as `weir reconcile`
// does.
func RequestReconcile(t *testing.T, c client.Client, o client.Object) {
	t.Helper()
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, time.Now().Format(time.RFC3339Nano))
	if err := c.Patch(context.Background(), o, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatal(err)
	}
}
