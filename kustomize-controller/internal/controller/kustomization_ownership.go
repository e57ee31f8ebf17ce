package controller

import (
	"context"
	"fmt"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/steps"
)

// One object has one owner. Before anything is applied, every built object that already exists
// is looked at, and the whole set is refused (OwnershipConflict) when one of them is owned
// elsewhere: its ownership labels (kustomize.weir.dev/name and /namespace) name another
// Kustomization that still exists, targets the same cluster and still lists the object in its
// status.inventory; or its helm.weir.dev labels name a HelmRelease that still exists; or Helm's
// own metadata (app.kubernetes.io/managed-by: Helm, meta.helm.sh/release-name and -namespace)
// names a release Helm still has a record of. The whole set, as a failed dry run refuses it:
// applying the rest would leave a half set nobody wrote. The run is retried, so once the owner
// lets go of the object (it left the owner's Git, or the owner was deleted) the object is
// adopted in place, never deleted and created again (and see kustomization_handover.go). Labels
// of other tools, Flux's kustomize.toolkit.fluxcd.io among them, are not ownership here:
// migrating from them adopts the object.
//
// Sharing on purpose: an object annotated kustomize.weir.dev/ownership: shared in the cluster
// (so by its current owner, which must carry the annotation in its own manifest, or by hand) may
// be applied by any Kustomization; every one that builds it must carry the annotation, or the
// next apply without it takes it away. --allow-shared-objects turns the check off.
//
// Cost: the apply engine reads every object before its dry run anyway. Those reads are made
// here instead, a little earlier (prefetch), and the engine is handed each result once, so no
// object is read twice. Only when an object names another owner is that owner read (a GET, or
// for a Helm release a label-selected List of its records' metadata), once per owner and run.
// A read handed over was made before the apply's first stage (CRDs and Namespaces, which it
// waits for), so a later-stage object may be seen a few seconds old; a change made in that
// window is corrected at the next run instead of this one.

// OwnershipAnnotation set to OwnershipShared on an object in the cluster lets every
// Kustomization that builds it apply it, without an OwnershipConflict.
const (
	OwnershipAnnotation = "kustomize.weir.dev/ownership"
	OwnershipShared     = "shared"
)

// maxConflictsInMessage bounds the objects an OwnershipConflict message names.
const maxConflictsInMessage = 5

// checkOwnership refuses the build when an object it would apply belongs to another
// Kustomization or a HelmRelease (see above). It sets ApplyFailed with reason
// OwnershipConflict, naming the objects and their owners. sc.observed must be observing.
func (r *KustomizationReconciler) checkOwnership(ctx context.Context, sc *ksScope) error {
	if r.AllowSharedObjects {
		return nil
	}
	live := sc.observed.prefetch(ctx, sc.objects)
	owners := map[ownerRef]*ownerRecord{}
	var conflicts, claimed []string
	for _, o := range sc.objects {
		l := live[object.UnstructuredToObjMetadata(o)]
		if l == nil || skippedByApply(o, l) || l.GetAnnotations()[OwnershipAnnotation] == OwnershipShared {
			continue
		}
		ref, ok := labelledOwner(l)
		if !ok || (ref.kind == kustomizev1.KustomizationKind && ref.namespace == sc.obj.Namespace && ref.name == sc.obj.Name) {
			continue
		}
		rec, err := r.ownerRecord(ctx, owners, ref)
		if err != nil {
			return err
		}
		if id, held := rec.holds(sc.obj, o, l); held {
			conflicts = append(conflicts, fmt.Sprintf("%s%s is owned by %s, which still applies it", sc.originPrefix(o), describeObject(l), rec.describe(ref)))
			if id != "" {
				claimed = append(claimed, id)
			}
		}
	}
	r.claims.set(client.ObjectKeyFromObject(sc.obj), claimed)
	if len(conflicts) == 0 {
		return nil
	}
	if len(conflicts) > maxConflictsInMessage {
		conflicts = append(conflicts[:maxConflictsInMessage], fmt.Sprintf("and %d more", len(conflicts)-maxConflictsInMessage))
	}
	err := fmt.Errorf("revision %s: %s. Nothing was applied: remove the object from one of them, or annotate it %s: %s in every Kustomization that builds it",
		sc.artifact.Revision, strings.Join(conflicts, "; "), OwnershipAnnotation, OwnershipShared)
	conditions.MarkTrue(sc.obj, kustomizev1.ApplyFailedCondition, kustomizev1.OwnershipConflictReason, "%s", err)
	return steps.Failed(kustomizev1.OwnershipConflictReason, err)
}

// skippedByApply reports whether the apply leaves the existing object live alone
// (kustomize.weir.dev/ssa: Ignore, or IfNotPresent), so building it takes nothing.
func skippedByApply(desired, live *unstructured.Unstructured) bool {
	ignore := map[string]string{SSAAnnotation: "Ignore"}
	return ssautils.AnyInMetadata(desired, ignore) || ssautils.AnyInMetadata(live, ignore) ||
		ssautils.AnyInMetadata(desired, map[string]string{SSAAnnotation: "IfNotPresent"})
}

// ownerRef names the Kustomization or HelmRelease an object's labels say owns it.
type ownerRef struct{ kind, namespace, name string }

func (o ownerRef) String() string { return fmt.Sprintf("%s %s/%s", o.kind, o.namespace, o.name) }

// helmReleaseKind names, in an ownerRef, a Helm release (rendered objects carry Helm's own
// ownership metadata, not helm.weir.dev labels).
const helmReleaseKind = "Helm release"

// labelledOwner returns the owner live's metadata names: a Kustomization, else a HelmRelease,
// else a Helm release (Helm's managed-by label and release annotations).
func labelledOwner(live *unstructured.Unstructured) (ownerRef, bool) {
	l := live.GetLabels()
	if name, ns := l[OwnerGroup+"/name"], l[OwnerGroup+"/namespace"]; name != "" && ns != "" {
		return ownerRef{kind: kustomizev1.KustomizationKind, namespace: ns, name: name}, true
	}
	if name, ns := l[helmv1.OwnerNameLabel], l[helmv1.OwnerNamespaceLabel]; name != "" && ns != "" {
		return ownerRef{kind: helmv1.HelmReleaseKind, namespace: ns, name: name}, true
	}
	if name, ns := l[setsv1.OwnerNameLabel], l[setsv1.OwnerNamespaceLabel]; name != "" && ns != "" {
		return ownerRef{kind: setsv1.ResourceSetKind, namespace: ns, name: name}, true
	}
	a := live.GetAnnotations()
	if name, ns := a["meta.helm.sh/release-name"], a["meta.helm.sh/release-namespace"]; l["app.kubernetes.io/managed-by"] == "Helm" && name != "" && ns != "" {
		return ownerRef{kind: helmReleaseKind, namespace: ns, name: name}, true
	}
	return ownerRef{}, false
}

// ownerRecord is what a run learnt of one owner: nil kustomization and !exists when it is gone.
// A Kustomization's or a ResourceSet's inventory says which objects it still holds.
type ownerRecord struct {
	exists        bool
	helmRelease   string // for a Helm release: the HelmRelease its records name, if any
	kustomization *kustomizev1.Kustomization
	inventory     map[string]bool // the kustomization's inventory IDs
}

// ownerRecord reads ref once per run, straight from the API server (the owner may be another
// shard's, so not in the cache). A Kustomization or HelmRelease not found, or a HelmRelease kind
// not installed, is gone.
func (r *KustomizationReconciler) ownerRecord(ctx context.Context, seen map[ownerRef]*ownerRecord, ref ownerRef) (*ownerRecord, error) {
	if rec, ok := seen[ref]; ok {
		return rec, nil
	}
	reader := r.OwnerReader
	if reader == nil {
		reader = r.Client
	}
	key := client.ObjectKey{Namespace: ref.namespace, Name: ref.name}
	rec := &ownerRecord{}
	var err error
	switch ref.kind {
	case kustomizev1.KustomizationKind:
		ks := &kustomizev1.Kustomization{}
		if err = reader.Get(ctx, key, ks); err == nil {
			rec.exists, rec.kustomization, rec.inventory = true, ks, map[string]bool{}
			if ks.Status.Inventory != nil {
				for _, e := range ks.Status.Inventory.Entries {
					rec.inventory[e.ID] = true
				}
			}
		}
	case helmReleaseKind:
		rec.exists, rec.helmRelease, err = r.helmReleaseRecord(ctx, ref)
	case setsv1.ResourceSetKind:
		set := &setsv1.ResourceSet{}
		if err = reader.Get(ctx, key, set); err == nil {
			rec.exists, rec.inventory = true, map[string]bool{}
			for _, e := range inventoryEntries(set.Status.Inventory) {
				rec.inventory[e.ID] = true
			}
		}
	default:
		hr := &metav1.PartialObjectMetadata{}
		hr.SetGroupVersionKind(helmv1.GroupVersion.WithKind(helmv1.HelmReleaseKind))
		if err = reader.Get(ctx, key, hr); err == nil {
			rec.exists = true
		}
	}
	if err != nil && !apierrors.IsNotFound(err) && !apimeta.IsNoMatchError(err) {
		return nil, fmt.Errorf("reading %s, the owner its objects' labels name: %w", ref, err)
	}
	seen[ref] = rec
	return rec, nil
}

// helmReleaseRecord reports whether Helm still has a release ref (a record, in any namespace,
// not uninstalled), and the HelmRelease its labels name. It lists the records' metadata only,
// never their content.
func (r *KustomizationReconciler) helmReleaseRecord(ctx context.Context, ref ownerRef) (bool, string, error) {
	selector, err := labels.Parse("owner=helm,name=" + ref.name + ",status!=uninstalled")
	if err != nil {
		return false, "", nil // not a release name Helm could have stored
	}
	records := &metav1.PartialObjectMetadataList{}
	records.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := r.SecretReader.List(ctx, records, client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return false, "", err
	}
	for _, rec := range records.Items {
		l := rec.GetLabels()
		if name, ns := l[helmv1.OwnerNameLabel], l[helmv1.OwnerNamespaceLabel]; name != "" && ns != "" {
			return true, ns + "/" + name, nil
		}
	}
	return len(records.Items) > 0, "", nil
}

// describe names ref for a message, with the HelmRelease behind a Helm release.
func (rec *ownerRecord) describe(ref ownerRef) string {
	if rec.helmRelease != "" {
		return fmt.Sprintf("%s (HelmRelease %s)", ref, rec.helmRelease)
	}
	return ref.String()
}

// holds reports whether the owner still holds live, which self builds as desired: a
// HelmRelease or Helm release that exists; a Kustomization that exists, targets the same cluster as self and
// lists the object in its inventory (it left the owner's Git when not). For a Kustomization it
// also returns the object's inventory ID there.
func (rec *ownerRecord) holds(self *kustomizev1.Kustomization, desired, live *unstructured.Unstructured) (string, bool) {
	if !rec.exists {
		return "", false
	}
	ks := rec.kustomization
	if ks == nil && rec.inventory == nil {
		return "", true
	}
	if ks != nil && !sameCluster(self, ks) {
		return "", false
	}
	for _, o := range []*unstructured.Unstructured{live, desired} {
		if id := object.UnstructuredToObjMetadata(o).String(); rec.inventory[id] {
			return id, true
		}
	}
	return "", false
}

// sameCluster reports whether a and b apply to the same cluster: both to this one, or both
// through the same kubeconfig Secret.
func sameCluster(a, b *kustomizev1.Kustomization) bool {
	ka, kb := a.Spec.KubeConfig, b.Spec.KubeConfig
	if ka == nil || kb == nil {
		return ka == nil && kb == nil
	}
	return a.Namespace == b.Namespace && ka.SecretRef == kb.SecretRef
}

// describeObject names an object as Kind namespace/name, or Kind name when cluster-scoped.
func describeObject(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return fmt.Sprintf("%s %s", o.GetKind(), o.GetName())
	}
	return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
}

// prefetchKey is how the apply engine asks for an object: its desired GVK and key.
type prefetchKey struct {
	gvk schema.GroupVersionKind
	key client.ObjectKey
}

// prefetched is the result of a read made ahead: the object, or NotFound.
type prefetched struct {
	obj *unstructured.Unstructured
	err error
}

// prefetch reads objects as the apply engine would, applyConcurrency at a time, and keeps each
// result (found, or NotFound) for the engine's own read of it. It returns the objects found, by
// the desired object's identity. Other errors (the kind is not served yet because its CRD is in
// the set, Forbidden) are not kept: the engine reads again and reports them as before.
func (c *observingClient) prefetch(ctx context.Context, objects []*unstructured.Unstructured) map[object.ObjMetadata]*unstructured.Unstructured {
	results := make([]prefetched, len(objects))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(applyConcurrency)
	for i, o := range objects {
		g.Go(func() error {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(o.GroupVersionKind())
			err := c.Client.Get(gctx, client.ObjectKeyFromObject(o), u)
			switch {
			case err == nil:
				results[i] = prefetched{obj: u}
			case apierrors.IsNotFound(err):
				results[i] = prefetched{err: err}
			}
			return nil
		})
	}
	_ = g.Wait()
	found := map[object.ObjMetadata]*unstructured.Unstructured{}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prefetched = make(map[prefetchKey]prefetched, len(objects))
	for i, o := range objects {
		if results[i].obj == nil && results[i].err == nil {
			continue
		}
		c.prefetched[prefetchKey{gvk: o.GroupVersionKind(), key: client.ObjectKeyFromObject(o)}] = results[i]
		if results[i].obj != nil {
			found[object.UnstructuredToObjMetadata(o)] = results[i].obj
		}
	}
	return found
}

// takePrefetched hands over, once, the prefetched read of key as obj's GVK, if there is one.
func (c *observingClient) takePrefetched(key client.ObjectKey, obj client.Object) (served bool, err error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := prefetchKey{gvk: u.GroupVersionKind(), key: key}
	p, ok := c.prefetched[k]
	if !ok {
		return false, nil
	}
	delete(c.prefetched, k)
	if p.obj != nil {
		p.obj.DeepCopyInto(u)
	}
	return true, p.err
}
