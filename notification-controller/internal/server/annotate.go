package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/notification-controller/internal/receiver"
)

// kindVersions are the served group-versions of the kinds a Receiver may name.
var kindVersions = map[string]schema.GroupVersion{
	"GitRepository":  sourcev1.GroupVersion,
	"OCIRepository":  sourcev1.GroupVersion,
	"HelmRepository": sourcev1.GroupVersion,
	"HelmChart":      sourcev1.GroupVersion,
	"Kustomization":  kustomizev1.GroupVersion,
	"HelmRelease":    helmv1.GroupVersion,
}

// annotate sets the reconcile-request annotation on every object rcv's resources select (and
// its resourceFilter passes, with payload as `req`). It returns how many it annotated; errors
// name the resource at fault and do not stop the others.
func (s *ReceiverServer) annotate(ctx context.Context, rcv *notificationv1.Receiver, payload map[string]any) (int, error) {
	var filter *receiver.Filter
	if rcv.Spec.ResourceFilter != "" {
		f, err := receiver.CompileFilter(rcv.Spec.ResourceFilter)
		if err != nil {
			return 0, err
		}
		filter = f
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		meta.ReconcileRequestAnnotation: time.Now().UTC().Format(time.RFC3339Nano),
	}}})
	count := 0
	var errs []error
	for i, res := range rcv.Spec.Resources {
		objs, err := s.selectResources(ctx, rcv, res)
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.resources[%d]: %w", i, err))
			continue
		}
		for _, obj := range objs {
			if filter != nil {
				ok, err := filter.Match(ctx, obj.Object, payload)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s '%s/%s': %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err))
					continue
				}
				if !ok {
					continue
				}
			}
			if err := s.opts.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
				errs = append(errs, fmt.Errorf("annotating %s '%s/%s': %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err))
				continue
			}
			count++
		}
	}
	return count, errors.Join(errs...)
}

// selectResources returns the objects one resource reference selects: the named object, or
// every object of the kind with the labels, in its namespace or, with `*`, in all.
func (s *ReceiverServer) selectResources(ctx context.Context, rcv *notificationv1.Receiver,
	res notificationv1.CrossNamespaceObjectReference) ([]*unstructured.Unstructured, error) {
	ns := res.Namespace
	if ns == "" {
		ns = rcv.Namespace
	}
	if ns != rcv.Namespace && !s.opts.CrossNamespace {
		return nil, fmt.Errorf("namespace '%s' is another namespace and cross-namespace references are disabled", ns)
	}
	gv, ok := kindVersions[res.Kind]
	if !ok {
		return nil, fmt.Errorf("kind '%s' is not a Weir kind", res.Kind)
	}
	if res.APIVersion != "" {
		parsed, err := schema.ParseGroupVersion(res.APIVersion)
		if err != nil || parsed.Group != gv.Group {
			return nil, fmt.Errorf("apiVersion '%s' is not in the group of %s", res.APIVersion, res.Kind)
		}
		gv = parsed
	}
	gvk := gv.WithKind(res.Kind)
	if res.Name != "*" {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(gvk)
		if err := s.opts.Reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: res.Name}, obj); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%s '%s/%s' not found", res.Kind, ns, res.Name)
			}
			return nil, err
		}
		return []*unstructured.Unstructured{obj}, nil
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(res.Kind + "List"))
	opts := []client.ListOption{client.MatchingLabels(res.MatchLabels)}
	if ns != "*" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := s.opts.Reader.List(ctx, list, opts...); err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out, nil
}
