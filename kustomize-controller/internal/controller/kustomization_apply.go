package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/kustomize-controller/internal/decrypt"
	"weir.dev/pkg/kustomize/build"
	"weir.dev/pkg/steps"
)

// Labels and annotations kustomize-controller reads and writes on applied objects.
const (
	// OwnerGroup prefixes the ownership labels: kustomize.weir.dev/name and /namespace.
	OwnerGroup = "kustomize.weir.dev"
	// PruneAnnotation set to "disabled" keeps an object from ever being pruned.
	PruneAnnotation = "kustomize.weir.dev/prune"
	// SSAAnnotation selects an object's apply policy: Override (default), Merge, IfNotPresent, Ignore.
	SSAAnnotation = "kustomize.weir.dev/ssa"
)

// reconcileBuild builds the objects from the artifact, within spec.timeout, refusing more
// than MaxObjects (stalled: nothing is applied). It sets BuildFailed.
func (r *KustomizationReconciler) reconcileBuild(ctx context.Context, sc *ksScope) error {
	opts := build.Options{AllowRemoteBases: r.AllowRemoteBases, Client: r.SecretReader,
		MaxObjects: r.maxObjects(), Timeout: sc.obj.GetTimeout()}
	if sc.tree != nil {
		if err := sc.tree.CheckErr; err != nil {
			err = fmt.Errorf("revision %s: %w", sc.artifact.Revision, err)
			conditions.MarkTrue(sc.obj, kustomizev1.BuildFailedCondition, kustomizev1.BuildFailedReason, "%s", err)
			return steps.Failed(kustomizev1.BuildFailedReason, err)
		}
		opts.Guarded = true
	}
	if r.unchanged(ctx, sc, opts) {
		sc.skipped = true
		r.skips.Add(1)
		conditions.Delete(sc.obj, kustomizev1.BuildFailedCondition)
		return nil
	}
	opts.Trace, opts.Origins = &build.Trace{}, build.Origins{}
	opts.Warn = r.kustomizeWarning(ctx, sc)
	if sc.obj.Spec.Decryption != nil {
		d, err := r.decrypter(ctx, sc.obj)
		if err != nil {
			conditions.MarkTrue(sc.obj, kustomizev1.BuildFailedCondition, kustomizev1.DecryptionFailedReason, "%s", err)
			return err
		}
		opts.Decrypter = d
	}
	objects, err := build.Build(ctx, sc.dir, sc.obj, opts)
	if err != nil {
		reason := kustomizev1.BuildFailedReason
		var be *build.Error
		if errors.As(err, &be) {
			reason = be.Reason
		}
		err = fmt.Errorf("revision %s: %w", sc.artifact.Revision, err)
		conditions.MarkTrue(sc.obj, kustomizev1.BuildFailedCondition, reason, "%s", err)
		if reason == kustomizev1.TooManyObjectsReason {
			return steps.Stalled(reason, err)
		}
		return steps.Failed(reason, err)
	}
	conditions.Delete(sc.obj, kustomizev1.BuildFailedCondition)
	sc.objects, sc.trace, sc.origins = objects, opts.Trace, opts.Origins
	if r.unchangedSinceApplied(ctx, sc) { // the first run after a restart, kustomization_restart.go
		sc.skipped, sc.objects = true, nil
		r.skips.Add(1)
	}
	return nil
}

func (r *KustomizationReconciler) maxObjects() int {
	if r.MaxObjects > 0 {
		return r.MaxObjects
	}
	return DefaultMaxObjects
}

// decrypter reads the SOPS keys of spec.decryption.secretRef, from obj's namespace. A missing
// Secret is retried; a Secret without usable keys stalls until it changes.
func (r *KustomizationReconciler) decrypter(ctx context.Context, obj *kustomizev1.Kustomization) (build.Decrypter, error) {
	dec := obj.Spec.Decryption
	if dec.SecretRef == nil {
		return nil, steps.Stalled(kustomizev1.DecryptionFailedReason, errors.New("spec.decryption.secretRef is required: it names the Secret holding the age or OpenPGP keys"))
	}
	var secret corev1.Secret
	key := client.ObjectKey{Namespace: obj.Namespace, Name: dec.SecretRef.Name}
	if err := r.SecretReader.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, steps.Failed(kustomizev1.DecryptionFailedReason, fmt.Errorf("spec.decryption.secretRef: Secret '%s' not found", key))
		}
		return nil, fmt.Errorf("spec.decryption.secretRef: reading Secret '%s': %w", key, err)
	}
	d, err := decrypt.KeysFromSecret(&secret)
	if err != nil {
		return nil, steps.Stalled(kustomizev1.DecryptionFailedReason, fmt.Errorf("spec.decryption.secretRef: %w", err))
	}
	return d, nil
}

// reconcileApply validates the whole set with a server-side dry run and applies it in stages
// (CRDs, Namespaces and cluster-wide classes first), with ownership labels on every object and
// the per-object policies of kustomize.weir.dev/ssa. It records the new inventory and the
// objects of the old one no longer built; after a failure, only the objects it applied join
// the inventory (see kustomization_inventory.go). An object owned by another Kustomization or
// a HelmRelease refuses the whole set first (see kustomization_ownership.go). It sets
// ApplyFailed.
func (r *KustomizationReconciler) reconcileApply(ctx context.Context, sc *ksScope) error {
	obj := sc.obj
	if sc.skipped {
		return nil
	}
	applyFailed := func(reason string, err error) error {
		conditions.MarkTrue(obj, kustomizev1.ApplyFailedCondition, reason, "%s", err)
		return steps.Failed(reason, err)
	}
	if len(sc.objects) == 0 && obj.Spec.Prune && inventoryLen(obj.Status.Inventory) > 0 && !obj.Spec.AllowEmptyPrune {
		err := fmt.Errorf("revision %s builds no objects while %d are applied: refusing to prune them all; set spec.allowEmptyPrune to allow it",
			sc.artifact.Revision, inventoryLen(obj.Status.Inventory))
		conditions.MarkTrue(obj, kustomizev1.ApplyFailedCondition, kustomizev1.EmptyPruneRefusedReason, "%s", err)
		return steps.Stalled(kustomizev1.EmptyPruneRefusedReason, err)
	}

	manager, observed, err := r.resourceManager(ctx, obj)
	if err != nil {
		return err
	}
	sc.manager, sc.observed = manager, observed
	sc.manager.SetOwnerLabels(sc.objects, obj.Name, obj.Namespace)
	observed.observe(true)
	if err := r.checkOwnership(ctx, sc); err != nil {
		observed.observe(false)
		return err
	}
	h := obj.Status.History
	sameSet := len(h) > 0 && h[0].LastReconciledStatus == kustomizev1.ReconciliationSucceededReason && h[0].Digest == sc.setDigest()

	opts := ssa.DefaultApplyOptions()
	opts.Force = obj.Spec.Force
	opts.ExclusionSelector = map[string]string{SSAAnnotation: "Ignore"}
	opts.IfNotPresentSelector = map[string]string{SSAAnnotation: "IfNotPresent"}
	opts.Cleanup = ssa.ApplyCleanupOptions{
		Annotations: []string{"kubectl.kubernetes.io/last-applied-configuration"},
		FieldManagers: []ssa.FieldManager{
			{Name: "kubectl", OperationType: "Apply"},
			{Name: "kubectl", OperationType: "Update"},
			{Name: "before-first-apply", OperationType: "Update"},
		},
		Exclusions: map[string]string{SSAAnnotation: "Merge"},
	}
	opts.WaitTimeout = obj.GetTimeout()

	changeSet, err := r.applyOrdered(ctx, sc, opts)
	observed.observe(false)
	if changeSet != nil {
		sc.changeSet = changeSet
	}
	if err != nil {
		obj.Status.Inventory = mergeInventories(obj.Status.Inventory, inventoryOf(appliedObjects(sc.objects, changeSet, observed)))
		if failed := (*steps.FailedError)(nil); errors.As(err, &failed) {
			return err // a wave or a hook failed, with its own condition (kustomization_waves.go)
		}
		return applyFailed(kustomizev1.ApplyFailedReason, fmt.Errorf("%w (revision %s)", sc.originError(err), sc.artifact.Revision))
	}
	newInv := inventoryOf(sc.objects)
	stale, err := staleObjects(obj.Status.Inventory, newInv)
	if err != nil {
		return applyFailed(kustomizev1.ApplyFailedReason, err)
	}
	sc.inventory, sc.stale = newInv, stale
	obj.Status.Inventory = newInv
	if drift := detectDrift(observed, sc.objects, changeSet, r.ControllerName, sameSet, time.Now()); len(drift) > 0 {
		obj.Status.Drift = drift
		countDrift(drift)
		r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeWarning, kustomizev1.DriftDetectedReason, steps.ActionReconcile, "%s", withOrigins(sc.origins, describeDrift(drift)))
	}
	conditions.Delete(obj, kustomizev1.ApplyFailedCondition)
	return nil
}

// reconcileHealth waits, within spec.timeout, until the applied objects (spec.wait) or the
// listed ones (spec.healthChecks) are healthy by kstatus, saying in status what it waits for
// while it waits; a new source revision or generation cancels the wait (kustomization_wait.go).
// It sets Healthy, and HealthCheckFailed naming the objects that are not.
func (r *KustomizationReconciler) reconcileHealth(ctx context.Context, sc *ksScope) error {
	obj := sc.obj
	var set object.ObjMetadataSet
	switch {
	case obj.Spec.Wait && sc.skipped:
		for _, e := range obj.Status.Inventory.Entries {
			id, err := object.ParseObjMetadata(e.ID)
			if err != nil {
				return fmt.Errorf("status.inventory entry %q: %w", e.ID, err)
			}
			set = append(set, id)
		}
	case obj.Spec.Wait:
		set = sc.changeSet.ToObjMetadataSet()
	case len(obj.Spec.HealthChecks) > 0:
		for _, hc := range obj.Spec.HealthChecks {
			gv, err := schema.ParseGroupVersion(hc.APIVersion)
			if err != nil {
				return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("spec.healthChecks: %s/%s: %w", hc.Kind, hc.Name, err))
			}
			set = append(set, object.ObjMetadata{
				Namespace: refNamespace(hc.Namespace, obj.Namespace), Name: hc.Name,
				GroupKind: schema.GroupKind{Group: gv.Group, Kind: hc.Kind},
			})
		}
	default:
		conditions.Delete(obj, kustomizev1.HealthyCondition)
		conditions.Delete(obj, kustomizev1.HealthCheckFailedCondition)
		return nil
	}
	if sc.manager == nil {
		manager, observed, err := r.resourceManager(ctx, obj)
		if err != nil {
			return err
		}
		sc.manager, sc.observed = manager, observed
	}
	err := r.waitHealthy(ctx, sc, set, sc.observed.poller)
	if errors.Is(err, errSuperseded) {
		return superseded(sc, err)
	}
	if err != nil {
		err = fmt.Errorf("health check of %s failed (timeout %s): %s", describeSet(set), obj.GetTimeout(), strings.TrimSpace(sc.originError(err).Error()))
		conditions.MarkFalse(obj, kustomizev1.HealthyCondition, meta.HealthCheckFailedReason, "%s", err)
		conditions.MarkTrue(obj, kustomizev1.HealthCheckFailedCondition, meta.HealthCheckFailedReason, "%s", err)
		return steps.Failed(meta.HealthCheckFailedReason, err)
	}
	conditions.MarkTrue(obj, kustomizev1.HealthyCondition, meta.SucceededReason, "%d objects are healthy", len(set))
	conditions.Delete(obj, kustomizev1.HealthCheckFailedCondition)
	return nil
}

// inventoryOf lists objects as inventory entries, sorted.
func inventoryOf(objects []*unstructured.Unstructured) *meta.ResourceInventory {
	inv := &meta.ResourceInventory{Entries: make([]meta.ResourceRef, 0, len(objects))}
	for _, o := range objects {
		id := object.UnstructuredToObjMetadata(o)
		inv.Entries = append(inv.Entries, meta.ResourceRef{ID: id.String(), Version: o.GroupVersionKind().Version})
	}
	slices.SortFunc(inv.Entries, func(a, b meta.ResourceRef) int { return strings.Compare(a.ID, b.ID) })
	return inv
}

func inventoryLen(inv *meta.ResourceInventory) int {
	if inv == nil {
		return 0
	}
	return len(inv.Entries)
}

// mergeInventories returns the union of a and b, sorted.
func mergeInventories(a, b *meta.ResourceInventory) *meta.ResourceInventory {
	seen := map[string]meta.ResourceRef{}
	for _, inv := range []*meta.ResourceInventory{a, b} {
		if inv != nil {
			for _, e := range inv.Entries {
				seen[e.ID] = e
			}
		}
	}
	// entries is required: an empty inventory is [], never null (the API server refuses null).
	out := &meta.ResourceInventory{Entries: []meta.ResourceRef{}}
	for _, e := range seen {
		out.Entries = append(out.Entries, e)
	}
	slices.SortFunc(out.Entries, func(a, b meta.ResourceRef) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// ssaWaitInterval is how often health and termination are polled.
const ssaWaitInterval = 2 * time.Second

// describeSet names up to five objects of set, and how many more there are.
func describeSet(set object.ObjMetadataSet) string {
	names := make([]string, 0, min(len(set), 5))
	for _, id := range set[:min(len(set), 5)] {
		if id.Namespace == "" {
			names = append(names, fmt.Sprintf("%s/%s", id.GroupKind.Kind, id.Name))
			continue
		}
		names = append(names, fmt.Sprintf("%s/%s/%s", id.GroupKind.Kind, id.Namespace, id.Name))
	}
	if len(set) > 5 {
		names = append(names, fmt.Sprintf("and %d more", len(set)-5))
	}
	return strings.Join(names, ", ")
}
