package objects

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
)

// The marks by which an applied object names what applied it.
const (
	// kustomize-controller labels what a Kustomization applies with its name and namespace.
	KustomizeNameLabel      = "kustomize.weir.dev/name"
	KustomizeNamespaceLabel = "kustomize.weir.dev/namespace"
	// Helm annotates what a release installs with the release's name and namespace.
	HelmReleaseNameAnnotation      = "meta.helm.sh/release-name"
	HelmReleaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
)

// NotManaged is the error for an object nothing of Weir's applied.
func NotManaged(u *unstructured.Unstructured) error {
	return fmt.Errorf("%s is not managed by Weir: it has neither %s labels nor Helm's %s annotation", Ref(u), KustomizeNameLabel, HelmReleaseNameAnnotation)
}

// MappingFor resolves a kind as users type it (deployment, deploy, deployments.apps) to its mapping.
func MappingFor(mapper apimeta.RESTMapper, kind string) (*apimeta.RESTMapping, error) {
	var gvk schema.GroupVersionKind
	var err error
	if gvr, gr := schema.ParseResourceArg(strings.ToLower(kind)); gvr != nil {
		gvk, err = mapper.KindFor(*gvr)
		if err != nil {
			gvk, err = mapper.KindFor(gr.WithVersion(""))
		}
	} else {
		gvk, err = mapper.KindFor(gr.WithVersion(""))
	}
	if err != nil {
		return nil, fmt.Errorf("unknown kind %q: %w", kind, err)
	}
	return mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
}

// ManagerOf returns the Kustomization or HelmRelease that applied u, or nil when none did.
func ManagerOf(ctx context.Context, c client.Client, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	labels, annotations := u.GetLabels(), u.GetAnnotations()
	var k *Kind
	var ns, name string
	switch {
	case labels[KustomizeNameLabel] != "":
		k, _ = FindKind("Kustomization")
		ns, name = labels[KustomizeNamespaceLabel], labels[KustomizeNameLabel]
	case labels[helmv1.OwnerNameLabel] != "":
		k, _ = FindKind("HelmRelease")
		ns, name = labels[helmv1.OwnerNamespaceLabel], labels[helmv1.OwnerNameLabel]
	case annotations[HelmReleaseNameAnnotation] != "":
		return HelmReleaseOf(ctx, c, annotations[HelmReleaseNameAnnotation], annotations[HelmReleaseNamespaceAnnotation])
	default:
		return nil, nil
	}
	owner := k.New()
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, owner); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s is labelled as applied by %s %s/%s, which no longer exists", Ref(u), k.Kind, ns, name)
		}
		return nil, err
	}
	return owner, nil
}

// HelmReleaseOf finds the HelmRelease whose newest release is release in namespace.
func HelmReleaseOf(ctx context.Context, c client.Client, release, namespace string) (*unstructured.Unstructured, error) {
	k, _ := FindKind("HelmRelease")
	list := k.NewList()
	if err := c.List(ctx, list); err != nil {
		return nil, err
	}
	for i := range list.Items {
		hr := &list.Items[i]
		history, _, _ := unstructured.NestedSlice(hr.Object, "status", "history")
		if len(history) == 0 {
			continue
		}
		latest, _ := history[0].(map[string]any)
		n, _, _ := unstructured.NestedString(latest, "name")
		ns, _, _ := unstructured.NestedString(latest, "namespace")
		if n == release && ns == namespace {
			return hr, nil
		}
	}
	return nil, fmt.Errorf("the Helm release %s/%s is not managed by any HelmRelease", namespace, release)
}
