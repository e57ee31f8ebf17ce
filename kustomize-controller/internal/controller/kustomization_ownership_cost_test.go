package controller

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
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

// TestOwnershipCheckOff: the check refuses an object its owner still lists, and with
// AllowSharedObjects (--allow-shared-objects) it lets it through without reading anything.
func TestOwnershipCheckOff(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	taken := cm(ns, "taken", "owner's")
	taken.SetLabels(map[string]string{OwnerGroup + "/name": "owner", OwnerGroup + "/namespace": ns})
	if err := env.Client.Create(ctx, taken); err != nil {
		t.Fatal(err)
	}
	owner := createKustomization(t, ns, "owner", "./none", func(k *kustomizev1.Kustomization) { k.Spec.Suspend = true })
	// The suite's controller may write the suspended owner's status (its finalizer, Ready)
	// meanwhile: set the inventory on the latest version.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(owner), owner); err != nil {
			return err
		}
		owner.Status.Inventory = inventoryOf([]*unstructured.Unstructured{taken})
		return env.Client.Status().Update(ctx, owner)
	}); err != nil {
		t.Fatal(err)
	}
	for _, allow := range []bool{false, true} {
		api := &countingClient{Client: env.Client}
		r := &KustomizationReconciler{Client: env.Client, OwnerReader: env.Client, AllowSharedObjects: allow}
		sc := &ksScope{
			obj:      &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "newcomer"}},
			artifact: &meta.Artifact{Revision: "main@sha1:1"},
			observed: &observingClient{Client: api},
			objects:  []*unstructured.Unstructured{cm(ns, "taken", "newcomer's")},
		}
		sc.observed.observe(true)
		err := r.checkOwnership(ctx, sc)
		switch {
		case allow && (err != nil || len(api.gets) != 0):
			t.Errorf("allowed: %v, reads %v", err, api.gets)
		case !allow && (err == nil || !strings.Contains(err.Error(), "ConfigMap "+ns+"/taken is owned by Kustomization "+ns+"/owner")):
			t.Errorf("refused: %v", err)
		}
	}
}
