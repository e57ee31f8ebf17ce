package controller

import (
	"context"
	"sync"
	"testing"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

// countingClient counts the GETs made through it, by object name.
type countingClient struct {
	client.Client
	mu   sync.Mutex
	gets map[string]int
}

func (c *countingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	if c.gets == nil {
		c.gets = map[string]int{}
	}
	c.gets[key.Name]++
	c.mu.Unlock()
	return c.Client.Get(ctx, key, obj, opts...)
}

// TestOwnershipCheckCost: the check plus the apply read each object once, as the apply alone
// did, and read an owner only when an object names one, once however many objects name it.
func TestOwnershipCheckCost(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	existing := func(name string, labels map[string]string) {
		u := cm(ns, name, "old")
		u.SetLabels(labels)
		if err := env.Client.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	existing("mine", map[string]string{OwnerGroup + "/name": "self", OwnerGroup + "/namespace": ns})
	existing("unowned", nil)
	gone := map[string]string{OwnerGroup + "/name": "gone", OwnerGroup + "/namespace": ns}
	existing("orphan-1", gone)
	existing("orphan-2", gone)

	for _, tc := range []struct {
		names       []string
		ownerReads  int
		description string
	}{
		{[]string{"new", "mine", "unowned"}, 0, "nothing names another owner"},
		{[]string{"new", "mine", "orphan-1", "orphan-2"}, 1, "two objects name one gone owner"},
	} {
		api := &countingClient{Client: env.Client}
		owners := &countingClient{Client: env.Client}
		observed := &observingClient{Client: api}
		poller := polling.NewStatusPoller(env.Client, env.Client.RESTMapper(), polling.Options{})
		manager := ssa.NewResourceManager(observed, poller, ssa.Owner{Field: "kustomize-controller", Group: OwnerGroup})
		r := &KustomizationReconciler{Client: env.Client, OwnerReader: owners}
		sc := &ksScope{
			obj:      &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "self"}},
			artifact: &meta.Artifact{Revision: "main@sha1:1"},
			observed: observed,
		}
		for _, name := range tc.names {
			sc.objects = append(sc.objects, cm(ns, name, "new"))
		}
		manager.SetOwnerLabels(sc.objects, "self", ns)
		observed.observe(true)
		if err := r.checkOwnership(ctx, sc); err != nil {
			t.Fatalf("%s: %v", tc.description, err)
		}
		if _, err := manager.ApplyAllStaged(ctx, sc.objects, ssa.DefaultApplyOptions()); err != nil {
			t.Fatalf("%s: %v", tc.description, err)
		}
		observed.observe(false)
		for _, name := range tc.names {
			if n := api.gets[name]; n != 1 {
				t.Errorf("%s: %s was read %d times, want once", tc.description, name, n)
			}
		}
		if n := owners.gets["gone"]; n != tc.ownerReads {
			t.Errorf("%s: the owner was read %d times, want %d", tc.description, n, tc.ownerReads)
		}
		if len(owners.gets) > tc.ownerReads {
			t.Errorf("%s: owners read: %v", tc.description, owners.gets)
		}
	}
}

func cm(ns, name, value string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"namespace": ns, "name": name},
		"data":     map[string]any{"value": value},
	}}
	return u
}
