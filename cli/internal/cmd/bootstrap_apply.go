package cmd

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/bootstrap"
	"weir.dev/cli/internal/install"
	"weir.dev/cli/internal/objects"
)

// syncManager is the field manager bootstrap applies Weir's manifests with: kustomize-
// controller's own. The Kustomization weir-system then applies the same objects as the same
// manager, so it owns every field bootstrap set (a field later removed from Git is removed
// from the cluster, not kept by a second manager) and nothing conflicts or changes.
const syncManager = "kustomize-controller"

// apply installs what the weir-system folder builds to, the first time (no Kustomization
// weir-system yet) or with --force: CRDs first, then the rest, as kustomize-controller would,
// with its ownership labels. Later runs leave the install to the Kustomization (an upgrade
// comes from Git) and apply only the credentials Secret and the two sync objects (a new URL or
// branch must reach the cluster before Git can be read from it), then ask for a sync now.
func (b *bootstrapper) apply(ctx context.Context, objs []*unstructured.Unstructured) error {
	ns := b.layout.Install.Namespace
	first, err := b.firstSync(ctx)
	if err != nil {
		return err
	}
	var crds, rest, sync []*unstructured.Unstructured
	for _, u := range objs {
		u = u.DeepCopy()
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[ownerNameLabel], labels[ownerNamespaceLabel] = bootstrap.SyncName, ns
		u.SetLabels(labels)
		switch {
		case u.GetName() == bootstrap.SyncName && u.GetNamespace() == ns && (u.GetKind() == sourcev1.GitRepositoryKind || u.GetKind() == kustomizev1.KustomizationKind):
			sync = append(sync, u)
		case install.IsCRD(u):
			crds = append(crds, u)
		default:
			rest = append(rest, u)
		}
	}
	if len(sync) != 2 {
		return fmt.Errorf("%s no longer builds the GitRepository and the Kustomization %s of %s: restore them, or run with --force",
			b.layout.File(bootstrap.KustomizationFile), bootstrap.SyncName, bootstrap.SyncFile)
	}
	if first || b.force {
		for _, u := range crds {
			if err := applyAs(ctx, b.c, u, syncManager); err != nil {
				return err
			}
		}
		if err := waitEstablished(ctx, b.c, crds, b.timeout); err != nil {
			return err
		}
		for _, u := range rest {
			if err := applyAs(ctx, b.c, u, syncManager); err != nil {
				return err
			}
		}
		for _, u := range append(crds, rest...) {
			if err := dropManager(ctx, b.c, u, installOwner); err != nil {
				return err
			}
		}
		progress(b.g, "✔ installed %d CRDs and %d objects in %s and cluster-wide", len(crds), len(rest), ns)
	}
	if err := b.applySecret(ctx); err != nil {
		return err
	}
	for _, u := range sync {
		if err := applyAs(ctx, b.c, u, syncManager); err != nil {
			return err
		}
	}
	progress(b.g, "✔ applied the GitRepository and the Kustomization %s/%s", ns, bootstrap.SyncName)
	if first {
		return nil
	}
	for _, o := range []client.Object{&sourcev1.GitRepository{}, &kustomizev1.Kustomization{}} {
		if err := requestReconcileNow(ctx, b.c, o, ns, bootstrap.SyncName); err != nil {
			return err
		}
	}
	return nil
}

// firstSync reports whether the cluster has no Kustomization weir-system yet (or not even the
// CRD).
func (b *bootstrapper) firstSync(ctx context.Context) (bool, error) {
	ks := &kustomizev1.Kustomization{}
	err := b.c.Get(ctx, client.ObjectKey{Namespace: b.layout.Install.Namespace, Name: bootstrap.SyncName}, ks)
	switch {
	case err == nil:
		return false, nil
	case apierrors.IsNotFound(err), apimeta.IsNoMatchError(err):
		return true, nil
	}
	return false, fmt.Errorf("looking for the Kustomization %s: %w", bootstrap.SyncName, err)
}

func applyAs(ctx context.Context, c client.Client, u *unstructured.Unstructured, manager string) error {
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(manager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s: %w", objects.Ref(u), err)
	}
	return nil
}

// dropManager removes manager's entries from the managed fields of u in the cluster. Over a
// `weir install`, its manager shares every field whose value did not change; left there, it
// would keep in place what is later removed from Git. The Kustomization must own them alone.
func dropManager(ctx context.Context, c client.Client, u *unstructured.Unstructured, manager string) error {
	cur := &unstructured.Unstructured{}
	cur.SetGroupVersionKind(u.GroupVersionKind())
	if err := c.Get(ctx, client.ObjectKeyFromObject(u), cur); err != nil {
		return fmt.Errorf("reading %s: %w", objects.Ref(u), err)
	}
	all := cur.GetManagedFields()
	kept := make([]metav1.ManagedFieldsEntry, 0, len(all))
	for _, m := range all {
		if m.Manager != manager {
			kept = append(kept, m)
		}
	}
	if len(kept) == len(all) || len(kept) == 0 {
		return nil
	}
	patch := client.MergeFrom(cur.DeepCopy())
	cur.SetManagedFields(kept)
	if err := c.Patch(ctx, cur, patch); err != nil {
		return fmt.Errorf("handing %s over to the Kustomization: %w", objects.Ref(u), err)
	}
	return nil
}

// applySecret creates or updates the Secret weir-system with the credentials, in the keys
// source-controller reads. It is never written to Git.
func (b *bootstrapper) applySecret(ctx context.Context) error {
	data, err := b.creds.SecretData(b.u)
	if err != nil {
		return err
	}
	if data == nil {
		return nil
	}
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: b.layout.Install.Namespace, Name: bootstrap.SyncName},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
	if err != nil {
		return err
	}
	if err := applyAs(ctx, b.c, &unstructured.Unstructured{Object: m}, installOwner); err != nil {
		return err
	}
	progress(b.g, "✔ stored the Git credentials in the Secret %s/%s", s.Namespace, s.Name)
	return nil
}

// requestReconcileNow sets the reconcile-request annotation of the object name in ns.
func requestReconcileNow(ctx context.Context, c client.Client, o client.Object, ns, name string) error {
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, o); err != nil {
		return err
	}
	patch := client.MergeFrom(o.DeepCopyObject().(client.Object))
	ann := o.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[meta.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	o.SetAnnotations(ann)
	return c.Patch(ctx, o, patch)
}

// waitSynced waits until the Kustomization weir-system is Ready having applied revision: Weir
// then runs from Git. On timeout it says why, with the GitRepository's state when that is
// where it is stuck.
func (b *bootstrapper) waitSynced(ctx context.Context, revision string) error {
	ns := b.layout.Install.Namespace
	progress(b.g, "◎ waiting for the Kustomization %s/%s to apply %s (up to %s)", ns, bootstrap.SyncName, revision, b.timeout)
	deadline := time.Now().Add(b.timeout)
	key := client.ObjectKey{Namespace: ns, Name: bootstrap.SyncName}
	for {
		ks := &kustomizev1.Kustomization{}
		why := ""
		if err := b.c.Get(ctx, key, ks); err != nil {
			why = err.Error()
		} else {
			ready := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition)
			switch {
			case ks.Status.LastAppliedRevision == revision && ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == ks.Generation:
				progress(b.g, "✔ Weir syncs itself from %s: the Kustomization %s applied %s", bootstrap.Redact(b.u), bootstrap.SyncName, revision)
				return nil
			case ready == nil:
				why = "not reconciled yet"
			default:
				why = fmt.Sprintf("Ready=%s, %s: %s (applied %q)", ready.Status, ready.Reason, ready.Message, ks.Status.LastAppliedRevision)
			}
		}
		if time.Now().After(deadline) {
			repo := &sourcev1.GitRepository{}
			if err := b.c.Get(ctx, key, repo); err == nil {
				if r := apimeta.FindStatusCondition(repo.Status.Conditions, meta.ReadyCondition); r != nil && r.Status != metav1.ConditionTrue {
					why += fmt.Sprintf("; GitRepository %s: %s: %s", bootstrap.SyncName, r.Reason, r.Message)
				}
			}
			return fmt.Errorf("the Kustomization %s/%s did not apply %s within %s: %s; see `weir get ks -n %s`",
				ns, bootstrap.SyncName, revision, b.timeout, why, ns)
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}
