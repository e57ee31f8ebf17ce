package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/drift"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/metrics"
	"weir.dev/pkg/steps"
)

// Drift of a Helm release is found by comparing the objects of its manifest (as Helm stored
// it, post-renderers applied) with the cluster through a server-side dry-run apply (ssa.Diff):
// an object whose dry run would change it has drifted, and an object that is gone has too.
// The fields at fault are the manifest's paths whose live value differs, each attributed to
// the field manager that owns it now (the writer of the change). Fields the user ignores are
// removed from the manifest's objects first, so they are neither compared nor corrected.
//
// In mode enabled, drift is corrected by server-side applying the drifted objects again, with
// the controller's field manager and forced ownership: only what changed is rewritten, no
// Helm revision is made, no hook runs, and the release record stays the desired state. (A
// Helm upgrade would correct it too, at the cost of a revision and the chart's hooks on every
// kubectl edit.) In mode warn it is reported only.

// Bounds of a drift report, so a mass edit cannot make a huge event.
const (
	maxDriftObjects = 20
	maxDriftFields  = 20
)

// unknownManager names the writer of a drifted field that no other manager owns.
const unknownManager = "unknown"

// driftedObject is one object of the release that differs from its manifest.
type driftedObject struct {
	desired *unstructured.Unstructured
	// deleted says the object is gone from the cluster.
	deleted bool
	// fields are the formatted paths at fault, by the manager that wrote them.
	fields map[string][]string
}

// reconcileDrift compares the objects of the in-sync release's manifest with the cluster, as
// obj's identity (cluster), and, when they differ, emits a DriftDetected warning naming
// each object, its fields and the manager that changed them (paths only, never values), and
// corrects them in mode enabled. An invalid ignore rule stalls; a failure to compare or to
// correct is returned.
func (r *HelmReleaseReconciler) reconcileDrift(ctx context.Context, sc *hrScope, cluster *identity.Cluster, manifest []*unstructured.Unstructured) error {
	obj := sc.obj
	mode := obj.GetDriftDetectionMode()
	if mode == helmv1.DriftDetectionDisabled {
		return nil
	}
	notCorrected := ""
	switch mode {
	case helmv1.DriftDetectionWarn:
		notCorrected = "driftDetection.mode is warn"
	case helmv1.DriftDetectionEnabled:
		notCorrected = r.healHeld(sc) // spec.driftApproval, spec.selfHeal
	}
	objects, err := withoutIgnored(manifest, ignoreRules(obj))
	if err != nil {
		return steps.Stalled(helmv1.DriftDetectedReason, err)
	}
	manager := ssa.NewResourceManager(cluster.Client, nil, ssa.Owner{Field: r.ControllerName, Group: helmv1.GroupVersion.Group})
	drifted, err := detectReleaseDrift(ctx, cluster.Client, manager, objects, r.ControllerName)
	if err != nil {
		return steps.Failed(helmv1.DriftDetectedReason, fmt.Errorf("detecting drift as %s: %w", cluster.Identity, err))
	}
	if len(drifted) == 0 {
		return nil
	}
	report := describeReleaseDrift(drifted)
	if notCorrected != "" {
		r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeWarning, helmv1.DriftDetectedReason, "drift",
			"drift detected (not corrected, %s): %s", notCorrected, report)
		return nil
	}
	apply := make([]*unstructured.Unstructured, 0, len(drifted))
	for _, d := range drifted {
		apply = append(apply, d.desired)
	}
	if _, err := manager.ApplyAll(ctx, apply, ssa.DefaultApplyOptions()); err != nil {
		return steps.Failed(helmv1.DriftDetectedReason, fmt.Errorf("correcting drift (%s): %w", report, err))
	}
	countReleaseDrift(drifted)
	r.EventRecorder.AnnotatedEventf(obj, nil, revisionMetadata(sc), corev1.EventTypeWarning, helmv1.DriftDetectedReason, "drift",
		"corrected drift: %s", report)
	return nil
}

// countReleaseDrift adds the drift a correction re-applied to weir_drift_corrections_total:
// one per object and field manager that drifted it ("unknown" for a deleted object, or fields
// no manager owns any more), as kustomize-controller counts it.
func countReleaseDrift(drifted []driftedObject) {
	for _, d := range drifted {
		if len(d.fields) == 0 {
			metrics.DriftCorrections.WithLabelValues(d.desired.GetKind(), unknownManager).Inc()
			continue
		}
		for m := range d.fields {
			metrics.DriftCorrections.WithLabelValues(d.desired.GetKind(), m).Inc()
		}
	}
}

// ignoreRules returns spec.driftDetection.ignore.
func ignoreRules(obj *helmv1.HelmRelease) []helmv1.IgnoreRule {
	if obj.Spec.DriftDetection == nil {
		return nil
	}
	return obj.Spec.DriftDetection.Ignore
}

// withoutIgnored returns copies of objects without the fields the ignore rules select.
func withoutIgnored(objects []*unstructured.Unstructured, ignore []helmv1.IgnoreRule) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objects))
	for _, o := range objects {
		o = o.DeepCopy()
		for _, rule := range ignore {
			ok, err := drift.Matches(rule.Target, o)
			if err != nil {
				return nil, fmt.Errorf("spec.driftDetection.ignore: %w", err)
			}
			if !ok {
				continue
			}
			if err := drift.RemovePointers(o, rule.Paths); err != nil {
				return nil, fmt.Errorf("spec.driftDetection.ignore: %w", err)
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// inventoryOf lists objects as status.inventory entries.
func inventoryOf(objects []*unstructured.Unstructured) *meta.ResourceInventory {
	inv := &meta.ResourceInventory{Entries: make([]meta.ResourceRef, 0, len(objects))}
	for _, o := range objects {
		gvk := o.GroupVersionKind()
		inv.Entries = append(inv.Entries, meta.ResourceRef{
			ID:      o.GetNamespace() + "_" + o.GetName() + "_" + gvk.Group + "_" + gvk.Kind,
			Version: gvk.Version,
		})
	}
	slices.SortFunc(inv.Entries, func(a, b meta.ResourceRef) int { return strings.Compare(a.ID, b.ID) })
	return inv
}

// detectReleaseDrift dry-runs objects and returns those that drifted, with their fields by
// manager; owner is the controller's (and Helm's) field manager.
func detectReleaseDrift(ctx context.Context, c client.Client, manager *ssa.ResourceManager, objects []*unstructured.Unstructured, owner string) ([]driftedObject, error) {
	var out []driftedObject
	for _, desired := range objects {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(desired.GroupVersionKind())
		err := c.Get(ctx, client.ObjectKeyFromObject(desired), live)
		if apierrors.IsNotFound(err) {
			out = append(out, driftedObject{desired: desired, deleted: true})
			continue
		}
		if err != nil {
			return nil, err
		}
		entry, _, _, err := manager.Diff(ctx, desired, ssa.DiffOptions{})
		if err != nil {
			return nil, err
		}
		if entry == nil || entry.Action != ssa.ConfiguredAction {
			continue
		}
		fields := drift.ManagedFields(live, "")
		byManager := map[string][]string{}
		for _, path := range drift.DifferingPaths(drift.AsStored(desired).Object, live.Object) {
			m := fields.OwnerOf(path, owner)
			if m == "" {
				if fields.Owns(owner, path) {
					continue // ours, and equal but for the server's normalisation
				}
				m = unknownManager
			}
			byManager[m] = append(byManager[m], drift.FormatPath(path))
		}
		out = append(out, driftedObject{desired: desired, fields: byManager})
	}
	return out, nil
}

// describeReleaseDrift names each drifted object, in name order, with its fields and their
// managers, e.g.
// `Deployment/ns/web .spec.replicas (by kubectl-edit)`.
func describeReleaseDrift(drifted []driftedObject) string {
	subjectOf := func(d driftedObject) string {
		if ns := d.desired.GetNamespace(); ns != "" {
			return d.desired.GetKind() + "/" + ns + "/" + d.desired.GetName()
		}
		return d.desired.GetKind() + "/" + d.desired.GetName()
	}
	drifted = slices.Clone(drifted)
	slices.SortStableFunc(drifted, func(a, b driftedObject) int { return strings.Compare(subjectOf(a), subjectOf(b)) })
	parts := make([]string, 0, len(drifted))
	for i, d := range drifted {
		if i == maxDriftObjects {
			parts = append(parts, fmt.Sprintf("and %d more objects", len(drifted)-i))
			break
		}
		subject := subjectOf(d)
		if d.deleted {
			parts = append(parts, subject+" (deleted)")
			continue
		}
		if len(d.fields) == 0 {
			parts = append(parts, subject+" (by "+unknownManager+")")
			continue
		}
		for _, m := range slices.Sorted(maps.Keys(d.fields)) {
			paths := d.fields[m]
			if len(paths) > maxDriftFields {
				paths = append(paths[:maxDriftFields:maxDriftFields], fmt.Sprintf("and %d more", len(paths)-maxDriftFields))
			}
			parts = append(parts, fmt.Sprintf("%s %s (by %s)", subject, strings.Join(paths, ", "), m))
		}
	}
	return strings.Join(parts, "; ")
}
