package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fluxcd/cli-utils/pkg/object"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/steps"
)

// Moving an object from Kustomization A to B: add it to B, which is refused it
// (OwnershipConflict) while A still applies it and claims it; then remove it from A. A's next
// run finds it claimed and, instead of pruning (or, when A is deleted, deleting) it, drops it
// from its inventory and leaves it in place; B's next retry adopts it, with the same UID. Removed
// from A first, or in one commit that A applies first, the object is pruned and B creates it
// anew, as before: A cannot know B wants it until B has asked.
//
// Claims are kept in memory, by this controller: a restart forgets them until each claimant's
// next retry (spec.retryInterval), and a Kustomization of another shard is not seen claiming.
// A claim ends when its claimant's ownership check finds no conflict any more, or the claimant
// is deleted.

// ownershipClaims remembers, per object (inventory ID), which Kustomizations were refused it.
type ownershipClaims struct {
	mu         sync.Mutex
	byObject   map[string]map[types.NamespacedName]bool
	byClaimant map[types.NamespacedName][]string
}

// set replaces claimant's claims by ids (none forgets them).
func (c *ownershipClaims) set(claimant types.NamespacedName, ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range c.byClaimant[claimant] {
		delete(c.byObject[id], claimant)
		if len(c.byObject[id]) == 0 {
			delete(c.byObject, id)
		}
	}
	delete(c.byClaimant, claimant)
	if len(ids) == 0 {
		return
	}
	if c.byObject == nil {
		c.byObject = map[string]map[types.NamespacedName]bool{}
		c.byClaimant = map[types.NamespacedName][]string{}
	}
	c.byClaimant[claimant] = slices.Clone(ids)
	for _, id := range ids {
		if c.byObject[id] == nil {
			c.byObject[id] = map[types.NamespacedName]bool{}
		}
		c.byObject[id][claimant] = true
	}
}

// claimants returns who claims the object id, sorted.
func (c *ownershipClaims) claimants(id string) []types.NamespacedName {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]types.NamespacedName, 0, len(c.byObject[id]))
	for k := range c.byObject[id] {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b types.NamespacedName) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// handOver splits the objects obj is about to prune or delete into those to delete and those
// another Kustomization claims (one that still exists and targets the same cluster), which are
// left in place, with a Normal event naming them and their new owner.
func (r *KustomizationReconciler) handOver(ctx context.Context, obj *kustomizev1.Kustomization, objects []*unstructured.Unstructured) []*unstructured.Unstructured {
	self := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}
	var keep []*unstructured.Unstructured
	var handed []string
	for _, o := range objects {
		to := r.claimantOf(ctx, obj, self, object.UnstructuredToObjMetadata(o).String())
		if to == nil {
			keep = append(keep, o)
			continue
		}
		handed = append(handed, fmt.Sprintf("%s to Kustomization %s", describeObject(o), to))
	}
	if len(handed) > 0 {
		if len(handed) > maxChangesInEvent {
			handed = append(handed[:maxChangesInEvent], fmt.Sprintf("and %d more", len(handed)-maxChangesInEvent))
		}
		r.EventRecorder.AnnotatedEventf(obj, nil, nil, corev1.EventTypeNormal, kustomizev1.OwnershipHandedOverReason, steps.ActionReconcile,
			"handed over instead of deleted: %s", strings.Join(handed, "; "))
	}
	return keep
}

// claimantOf returns the first Kustomization other than self that claims the object id and
// still exists (read from the cache) targeting obj's cluster; nil when there is none.
func (r *KustomizationReconciler) claimantOf(ctx context.Context, obj *kustomizev1.Kustomization, self types.NamespacedName, id string) *types.NamespacedName {
	for _, c := range r.claims.claimants(id) {
		if c == self {
			continue
		}
		var ks kustomizev1.Kustomization
		if err := r.Get(ctx, c, &ks); err != nil || !ks.DeletionTimestamp.IsZero() || !sameCluster(obj, &ks) {
			continue
		}
		return &c
	}
	return nil
}
