package controller

import (
	"context"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/kustomize/build"
	"weir.dev/pkg/steps"
)

// Most reconciles of a Kustomization change nothing: its source has a new revision because
// another directory of the repository changed, or the interval came round. Such a run would
// build the same objects and find them as they were applied, so it skips the build, the dry
// run and the apply, and does only what proves that:
//
//   - the build's trace (every file it read, the spec, the variables) replays identically on
//     the new artifact, so the build would give the same objects (build.Trace);
//   - and, once per spec.interval, every applied object still has the resourceVersion the
//     apply left it with (one metadata GET each), so nobody has changed or deleted it. Any
//     difference runs the full reconcile, which corrects and reports the drift as before.
//
// A reconcile request (the annotation, `weir reconcile`, a Receiver of this Kustomization), a
// new generation, a failed or not-yet-successful last run, decryption and remote bases always
// run in full. The record is in memory; after a restart, status.applied stands in for it
// (kustomization_restart.go).

// driftCheckSlack lets a drift check that is due a little early still count as due: a requeue
// after spec.interval runs very nearly, not exactly, that long after the last check.
const driftCheckSlack = 0.9

// appliedState is what the last full successful run of a Kustomization applied.
type appliedState struct {
	uid      types.UID
	trace    *build.Trace
	digest   string // setDigest of the objects applied
	revision string // the revision they were applied at
	request  string // the reconcile request handled then
	// versions are the objects' resourceVersions after the apply, by inventory ID.
	versions  map[string]string
	checkedAt time.Time // when the versions were last seen unchanged
}

// appliedStates holds the appliedState of each Kustomization, by name.
type appliedStates struct{ m sync.Map }

func (s *appliedStates) get(key types.NamespacedName) *appliedState {
	if v, ok := s.m.Load(key); ok {
		return v.(*appliedState)
	}
	return nil
}

func (s *appliedStates) set(key types.NamespacedName, st *appliedState) { s.m.Store(key, st) }
func (s *appliedStates) forget(key types.NamespacedName)                { s.m.Delete(key) }

// unchanged reports whether this run may skip the build and the apply (see above). It is
// false whenever it cannot prove the outcome would be the same.
func (r *KustomizationReconciler) unchanged(ctx context.Context, sc *ksScope, opts build.Options) bool {
	obj := sc.obj
	st := r.applied.get(client.ObjectKeyFromObject(obj))
	if st == nil || st.uid != obj.UID || sc.privateDir {
		return false
	}
	token, _ := meta.ReconcileAnnotationValue(obj.GetAnnotations())
	h := obj.Status.History
	if token != st.request || obj.Status.ObservedGeneration != obj.Generation ||
		!conditions.IsReady(obj) || obj.Status.LastAppliedRevision != st.revision ||
		len(h) == 0 || h[0].Digest != st.digest || h[0].LastReconciledStatus != kustomizev1.ReconciliationSucceededReason {
		return false
	}
	if !st.trace.Matches(ctx, sc.dir, obj, opts) {
		return false
	}
	if time.Since(st.checkedAt) >= time.Duration(driftCheckSlack*float64(obj.Spec.Interval.Duration)) {
		if !r.versionsUnchanged(ctx, obj, st.versions) {
			return false
		}
		st.checkedAt = time.Now()
	}
	sc.digest = st.digest // the set applied, which this run does not build
	return true
}

// versionsUnchanged reads the metadata of every object in versions, as obj's identity (see
// liveVersions), and reports whether each still has the resourceVersion recorded.
func (r *KustomizationReconciler) versionsUnchanged(ctx context.Context, obj *kustomizev1.Kustomization, versions map[string]string) bool {
	if inventoryLen(obj.Status.Inventory) != len(versions) {
		return false
	}
	cluster, err := r.Identities.For(ctx, identity.Target{
		Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName, KubeConfig: obj.Spec.KubeConfig,
	})
	if err != nil {
		return false
	}
	live, err := liveVersions(ctx, cluster.Client, obj.Status.Inventory, obj.Name, obj.Namespace)
	if err != nil {
		return false
	}
	for _, e := range obj.Status.Inventory.Entries {
		if want, ok := versions[e.ID]; !ok || live[e.ID] != want {
			return false
		}
	}
	return true
}

// versionCheckConcurrency bounds the metadata reads of one Kustomization's check.
const versionCheckConcurrency = 8

// remember records, after a run, what the next one needs to decide whether it may skip: the
// applied state after a full success (in memory, and as digests in status.applied for the
// first run after a restart, see kustomization_restart.go), the new revision and check time
// after a skip, nothing after a failure.
func (r *KustomizationReconciler) remember(sc *ksScope, o steps.Outcome) {
	key := client.ObjectKeyFromObject(sc.obj)
	if o.Kind != steps.Succeeded || sc.artifact == nil {
		r.forget(sc)
		return
	}
	if sc.skipped {
		if st := r.applied.get(key); st != nil {
			st.revision = sc.artifact.Revision
		}
		return
	}
	if sc.trace == nil || sc.observed == nil || sc.obj.Status.Inventory == nil {
		r.forget(sc)
		return
	}
	versions := make(map[string]string, len(sc.obj.Status.Inventory.Entries))
	for _, o := range sc.objects {
		id := object.UnstructuredToObjMetadata(o)
		v := sc.observed.version(id)
		if v == "" {
			r.forget(sc)
			return
		}
		versions[id.String()] = v
	}
	token, _ := meta.ReconcileAnnotationValue(sc.obj.GetAnnotations())
	r.applied.set(key, &appliedState{
		uid: sc.obj.UID, trace: sc.trace, digest: sc.setDigest(), revision: sc.artifact.Revision,
		request: token, versions: versions, checkedAt: time.Now(),
	})
	sc.obj.Status.Applied = appliedDigests(sc.obj, sc.setDigest(), sc.observed.identity, versions)
}

// forget drops what remember recorded: no run may skip before the next full success.
func (r *KustomizationReconciler) forget(sc *ksScope) {
	r.applied.forget(client.ObjectKeyFromObject(sc.obj))
	sc.obj.Status.Applied = nil
}
