package controller

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/identity"
)

// A restart forgets the in-memory record kustomization_skip.go decides with, so without more
// the first run of every Kustomization after it would dry-run and compare each of its objects
// again. status.applied keeps what that decision needs across restarts, as digests, never
// content: the set applied (with its ownership labels), the inventory with the resourceVersion
// each object had after the apply and the identity that applied it, and the reconcile request
// handled. A run the in-memory record cannot skip builds as usual (no request to the API server
// but substituteFrom's reads), and then skips the dry run and the apply only when all of these
// hold, the same conditions as the in-memory record's:
//
//   - nothing is in memory for this Kustomization: this is the first run since the process
//     started (when the in-memory record declines, the run is full);
//   - the last run was a full success at the current generation (Ready, status.history's newest
//     entry succeeded with the set status.applied names), and no reconcile request came since;
//   - neither that run nor this build has hooks (kustomize.weir.dev/hook): the set's digest
//     leaves them out, and dropping or running them is the waves step's, which a skip skips;
//   - the build can be replayed (no decryption, no remote base: kept out as in memory);
//   - the build gives that same set, object for object, with the same inventory;
//   - every inventory object still has the resourceVersion the apply left it with, read now as
//     the same identity: nobody changed, deleted or recreated any of them since. This read is
//     the drift check, done at every such run: there is no record of the last one.
//
// It then seeds the in-memory record, so later runs skip as before. A run that ends in anything
// but a full success or a skip clears status.applied (remember), so a stale record never
// outlives the state it describes.

// unchangedSinceApplied reports whether this run, which built sc.objects, may skip the dry run
// and the apply (see above); when it may, it remembers the state in memory.
func (r *KustomizationReconciler) unchangedSinceApplied(ctx context.Context, sc *ksScope) bool {
	obj, rec := sc.obj, sc.obj.Status.Applied
	if rec == nil || sc.privateDir || !sc.trace.Replayable() || sc.artifact == nil || inventoryLen(obj.Status.Inventory) != len(sc.objects) ||
		len(obj.Status.Hooks) > 0 || r.applied.get(client.ObjectKeyFromObject(obj)) != nil {
		return false
	}
	token, _ := meta.ReconcileAnnotationValue(obj.GetAnnotations())
	h := obj.Status.History
	if token != rec.Request || obj.Status.ObservedGeneration != obj.Generation || !conditions.IsReady(obj) ||
		len(h) == 0 || h[0].Digest != rec.Set || h[0].LastReconciledStatus != kustomizev1.ReconciliationSucceededReason {
		return false
	}
	labelled := make([]*unstructured.Unstructured, len(sc.objects))
	for i, o := range sc.objects {
		if _, isHook := o.GetAnnotations()[HookAnnotation]; isHook {
			return false
		}
		labelled[i] = o.DeepCopy()
	}
	ssa.NewResourceManager(nil, nil, ssa.Owner{Group: OwnerGroup}).SetOwnerLabels(labelled, obj.Name, obj.Namespace)
	digest := (&ksScope{objects: labelled}).setDigest()
	inv := obj.Status.Inventory
	if digest != rec.Set || !slices.Equal(inv.Entries, inventoryOf(labelled).Entries) {
		return false
	}
	cluster, err := r.Identities.For(ctx, identity.Target{
		Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName, KubeConfig: obj.Spec.KubeConfig,
	})
	if err != nil {
		return false
	}
	live, err := liveVersions(ctx, cluster.Client, inv, obj.Name, obj.Namespace)
	if err != nil || len(live) != len(inv.Entries) || objectsDigest(identityOf(cluster), inv, live) != rec.Objects {
		return false
	}
	r.applied.set(client.ObjectKeyFromObject(obj), &appliedState{
		uid: obj.UID, trace: sc.trace, digest: digest, revision: sc.artifact.Revision,
		request: token, versions: live, checkedAt: time.Now(),
	})
	sc.digest = digest
	return true
}

// appliedDigests is status.applied after a full success that left the inventory's objects at
// versions (by inventory ID), applied as identity.
func appliedDigests(obj *kustomizev1.Kustomization, set, identity string, versions map[string]string) *kustomizev1.AppliedDigests {
	token, _ := meta.ReconcileAnnotationValue(obj.GetAnnotations())
	return &kustomizev1.AppliedDigests{Set: set, Objects: objectsDigest(identity, obj.Status.Inventory, versions), Request: token}
}

// objectsDigest digests the inventory's entries with each object's resourceVersion, and the
// identity that reads and writes them.
func objectsDigest(identity string, inv *meta.ResourceInventory, versions map[string]string) string {
	h := sha256.New()
	h.Write([]byte(identity + "\x00"))
	for _, e := range inv.Entries {
		h.Write([]byte(e.ID + "\x00" + e.Version + "\x00" + versions[e.ID] + "\x00"))
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}

// identityOf names whom c acts as, and where.
func identityOf(c *identity.Cluster) string {
	if c.Config == nil {
		return c.Identity
	}
	return c.Config.Host + "\x00" + c.Config.Impersonate.UserName
}

// liveVersions reads the resourceVersion of every object of inv, by inventory ID, as c: one
// metadata LIST (by the ownership labels of owner name/namespace) for each namespace and kind
// holding two or more of them, and a metadata GET for the others and for any the list did not
// show (an object whose labels someone removed). An object not found is left out of the map.
func liveVersions(ctx context.Context, c client.Client, inv *meta.ResourceInventory, name, namespace string) (map[string]string, error) {
	type groupKey struct {
		namespace string
		gvk       schema.GroupVersionKind
	}
	groups := map[groupKey][]object.ObjMetadata{}
	var order []groupKey
	for _, e := range inv.Entries {
		id, err := object.ParseObjMetadata(e.ID)
		if err != nil {
			return nil, fmt.Errorf("status.inventory entry %q: %w", e.ID, err)
		}
		k := groupKey{id.Namespace, id.GroupKind.WithVersion(e.Version)}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], id)
	}
	out := make(map[string]string, len(inv.Entries))
	var mu sync.Mutex
	set := func(id, v string) {
		mu.Lock()
		out[id] = v
		mu.Unlock()
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(versionCheckConcurrency)
	get := func(gvk schema.GroupVersionKind, id object.ObjMetadata) error {
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(gvk)
		err := c.Get(ctx, client.ObjectKey{Namespace: id.Namespace, Name: id.Name}, m)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		set(id.String(), m.ResourceVersion)
		return nil
	}
	for _, k := range order {
		ids := groups[k]
		if len(ids) == 1 {
			g.Go(func() error { return get(k.gvk, ids[0]) })
			continue
		}
		g.Go(func() error {
			list := &metav1.PartialObjectMetadataList{}
			list.SetGroupVersionKind(k.gvk.GroupVersion().WithKind(k.gvk.Kind + "List"))
			opts := []client.ListOption{client.MatchingLabels{OwnerGroup + "/name": name, OwnerGroup + "/namespace": namespace}}
			if k.namespace != "" {
				opts = append(opts, client.InNamespace(k.namespace))
			}
			if err := c.List(ctx, list, opts...); err != nil {
				return err
			}
			found := make(map[string]string, len(list.Items))
			for _, m := range list.Items {
				found[m.Namespace+"/"+m.Name] = m.ResourceVersion
			}
			for _, id := range ids {
				if v, ok := found[id.Namespace+"/"+id.Name]; ok {
					set(id.String(), v)
				} else if err := get(k.gvk, id); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
