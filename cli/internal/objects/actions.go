package objects

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
)

// RequestReconcile sets the reconcile-request annotation of u, and each of the also
// annotations (helm-controller's forceAt and resetAt, which count only with the same value), to
// the time now and returns it.
func RequestReconcile(ctx context.Context, c client.Client, u *unstructured.Unstructured, also ...string) (string, error) {
	requested := time.Now().UTC().Format(time.RFC3339Nano)
	patch := client.MergeFrom(u.DeepCopy())
	annotations := u.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[meta.ReconcileRequestAnnotation] = requested
	for _, key := range also {
		annotations[key] = requested
	}
	u.SetAnnotations(annotations)
	return requested, c.Patch(ctx, u, patch)
}

// SetSuspend sets u's spec.suspend; resuming removes the field (a merge patch of null),
// leaving the default.
func SetSuspend(ctx context.Context, c client.Client, u *unstructured.Unstructured, suspend bool) error {
	patch := []byte(`{"spec":{"suspend":null}}`)
	if suspend {
		patch = []byte(`{"spec":{"suspend":true}}`)
	}
	return c.Patch(ctx, u, client.RawPatch("application/merge-patch+json", patch))
}

// ControllerOf names the controller that reconciles kind k.
func ControllerOf(k *Kind) string {
	group, _, _ := strings.Cut(k.GroupVersion.Group, ".")
	if group == "sets" {
		return "kustomize-controller" // it hosts ResourceSets
	}
	return group + "-controller"
}

// HasSource reports whether objects of kind k reconcile from a source, so that SourceOf
// answers for them.
func HasSource(k *Kind) bool {
	return k.Kind == "Kustomization" || k.Kind == "HelmRelease" || k.Kind == "HelmChart"
}

// SourceOf returns the source a Kustomization, HelmRelease or HelmChart reconciles from: a
// HelmRelease's chartRef, or the HelmChart it made from its chart template.
func SourceOf(u *unstructured.Unstructured) (*Kind, string, string, error) {
	ref := fmt.Sprintf("%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
	var path []string
	switch u.GetKind() {
	case "Kustomization", "HelmChart":
		path = []string{"spec", "sourceRef"}
	case "HelmRelease":
		path = []string{"spec", "chartRef"}
		if _, ok, _ := unstructured.NestedMap(u.Object, path...); !ok {
			chart, _, _ := unstructured.NestedString(u.Object, "status", "helmChart")
			ns, name, ok := strings.Cut(chart, "/")
			if !ok {
				return nil, "", "", fmt.Errorf("%s has no HelmChart yet: reconcile it first", ref)
			}
			k, _ := FindKind("HelmChart")
			return k, ns, name, nil
		}
	default:
		return nil, "", "", fmt.Errorf("a %s has no source: only Kustomizations, HelmReleases and HelmCharts have one", u.GetKind())
	}
	kind, _, _ := unstructured.NestedString(u.Object, append(path, "kind")...)
	name, _, _ := unstructured.NestedString(u.Object, append(path, "name")...)
	ns, _, _ := unstructured.NestedString(u.Object, append(path, "namespace")...)
	if ns == "" {
		ns = u.GetNamespace()
	}
	k, err := FindKind(kind)
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: source: %w", ref, err)
	}
	return k, ns, name, nil
}
