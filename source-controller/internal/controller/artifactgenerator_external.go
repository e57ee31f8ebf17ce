package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
)

// isController is the value of an owner reference's controller field the generator sets.
var isController = true

// ownedExternalArtifact returns the ExternalArtifact name of obj, creating it (owned by obj,
// without an artifact yet) when missing. One that exists and is not obj's is refused with
// OwnershipConflict, naming its owner.
func (r *ArtifactGeneratorReconciler) ownedExternalArtifact(ctx context.Context, obj *sourcev1.ArtifactGenerator, name string) (*sourcev1.ExternalArtifact, error) {
	ea := &sourcev1.ExternalArtifact{}
	err := r.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: name}, ea)
	switch {
	case apierrors.IsNotFound(err):
		ea = &sourcev1.ExternalArtifact{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: obj.Namespace,
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.ArtifactGeneratorKind,
					Name: obj.Name, UID: obj.UID, Controller: &isController,
				}},
			},
			Spec: sourcev1.ExternalArtifactSpec{SourceRef: &meta.NamespacedObjectKindReference{
				APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.ArtifactGeneratorKind,
				Name: obj.Name, Namespace: obj.Namespace,
			}},
		}
		if err := r.Create(ctx, ea); err != nil {
			return nil, fmt.Errorf("artifact '%s': creating its ExternalArtifact: %w", name, err)
		}
		return ea, nil
	case err != nil:
		return nil, err
	}
	if !metav1.IsControlledBy(ea, obj) {
		owner := "no ArtifactGenerator"
		if ref := metav1.GetControllerOf(ea); ref != nil {
			owner = fmt.Sprintf("%s '%s'", ref.Kind, ref.Name)
		}
		return nil, steps.Stalled(sourcev1.OwnershipConflictReason,
			fmt.Errorf("artifact '%s': ExternalArtifact '%s/%s' already exists and belongs to %s", name, obj.Namespace, name, owner))
	}
	return ea, nil
}

// publish records a (nil: keep the current artifact) in ea's status as Ready for its
// generation, writing only when something changed.
func (r *ArtifactGeneratorReconciler) publish(ctx context.Context, ea *sourcev1.ExternalArtifact, a *meta.Artifact) error {
	before := ea.DeepCopy()
	if a != nil {
		ea.Status.Artifact = a
	}
	ea.Status.ObservedGeneration = ea.Generation
	msg := "no artifact"
	if ea.Status.Artifact != nil {
		msg = fmt.Sprintf("stored artifact for revision '%s'", ea.Status.Artifact.Revision)
	}
	conditions.MarkTrue(ea, meta.ReadyCondition, meta.SucceededReason, "%s", msg)
	return r.writeExternalStatus(ctx, before, ea)
}

// publishFailure marks name's ExternalArtifact, if obj owns one, Ready=False with err's reason
// and message; its artifact stays as it was.
func (r *ArtifactGeneratorReconciler) publishFailure(ctx context.Context, obj *sourcev1.ArtifactGenerator, name string, cause error) error {
	ea := &sourcev1.ExternalArtifact{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: name}, ea); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(ea, obj) {
		return nil
	}
	before := ea.DeepCopy()
	outcome := steps.Classify(cause, sourcev1.StorageOperationFailedReason)
	ea.Status.ObservedGeneration = ea.Generation
	conditions.MarkFalse(ea, meta.ReadyCondition, outcome.Reason, "%s", cause)
	return r.writeExternalStatus(ctx, before, ea)
}

// writeExternalStatus patches ea's status from before, when it changed.
func (r *ArtifactGeneratorReconciler) writeExternalStatus(ctx context.Context, before, ea *sourcev1.ExternalArtifact) error {
	if apiequality.Semantic.DeepEqual(before.Status, ea.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, ea, client.MergeFrom(before), client.FieldOwner(r.ControllerName)); err != nil {
		return fmt.Errorf("ExternalArtifact '%s': writing its status: %w", ea.Name, err)
	}
	return nil
}

// reconcilePrune deletes the ExternalArtifacts obj owns that spec.artifacts no longer lists,
// and their stored files.
func (r *ArtifactGeneratorReconciler) reconcilePrune(ctx context.Context, sc *agScope) error {
	want := map[string]bool{}
	for _, out := range sc.obj.Spec.Artifacts {
		want[out.Name] = true
	}
	var list sourcev1.ExternalArtifactList
	if err := r.List(ctx, &list, client.InNamespace(sc.obj.Namespace)); err != nil {
		return err
	}
	var errs []error
	for i := range list.Items {
		ea := &list.Items[i]
		if want[ea.Name] || !metav1.IsControlledBy(ea, sc.obj) {
			continue
		}
		errs = append(errs, r.deleteExternal(ctx, ea))
	}
	return errors.Join(errs...)
}

// finalize deletes every ExternalArtifact obj owns and its stored files: the cluster's
// garbage collector would delete the objects too, but not the files, and it may not run.
func (r *ArtifactGeneratorReconciler) finalize(ctx context.Context, obj *sourcev1.ArtifactGenerator) error {
	var list sourcev1.ExternalArtifactList
	if err := r.List(ctx, &list, client.InNamespace(obj.Namespace)); err != nil {
		return err
	}
	var errs []error
	for i := range list.Items {
		if metav1.IsControlledBy(&list.Items[i], obj) {
			errs = append(errs, r.deleteExternal(ctx, &list.Items[i]))
		}
	}
	// Artifacts of an ExternalArtifact someone already deleted.
	for _, e := range obj.Status.Inventory {
		errs = append(errs, r.Storage.RemoveAll(sourcev1.ExternalArtifactKind, obj.Namespace, e.Name))
	}
	return errors.Join(errs...)
}

// deleteExternal deletes ea and its stored files.
func (r *ArtifactGeneratorReconciler) deleteExternal(ctx context.Context, ea *sourcev1.ExternalArtifact) error {
	if err := r.Delete(ctx, ea); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting ExternalArtifact '%s': %w", ea.Name, err)
	}
	if err := r.Storage.RemoveAll(sourcev1.ExternalArtifactKind, ea.Namespace, ea.Name); err != nil {
		return fmt.Errorf("removing the artifacts of ExternalArtifact '%s': %w", ea.Name, err)
	}
	return nil
}
