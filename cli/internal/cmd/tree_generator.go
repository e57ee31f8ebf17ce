package cmd

import (
	"context"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
)

// generatorTree prints the ArtifactGenerator gen, the ExternalArtifacts of its inventory with
// their health and revision, and under each the Kustomizations and HelmReleases in its
// namespace that consume it.
func generatorTree(ctx context.Context, c client.Client, out io.Writer, gen *unstructured.Unstructured) error {
	fmt.Fprintf(out, "%s %s\n", objects.Ref(gen), health(gen))
	eaKind, err := objects.FindKind("ExternalArtifact")
	if err != nil {
		return err
	}
	consumers, err := artifactConsumers(ctx, c, gen.GetNamespace())
	if err != nil {
		return err
	}
	entries, _, _ := unstructured.NestedSlice(gen.Object, "status", "inventory")
	for i, e := range entries {
		entry, _ := e.(map[string]any)
		name, _, _ := unstructured.NestedString(entry, "name")
		branch, indent := "├── ", "│   "
		if i == len(entries)-1 {
			branch, indent = "└── ", "    "
		}
		ref := "ExternalArtifact/" + gen.GetNamespace() + "/" + name
		ea := eaKind.New()
		err := c.Get(ctx, client.ObjectKey{Namespace: gen.GetNamespace(), Name: name}, ea)
		switch {
		case apierrors.IsNotFound(err):
			fmt.Fprintf(out, "%s%s NotFound\n", branch, ref)
			continue
		case err != nil:
			fmt.Fprintf(out, "%s%s Unknown: %v\n", branch, ref, err)
			continue
		}
		line := fmt.Sprintf("%s%s %s", branch, ref, health(ea))
		if rev := eaKind.Revision(ea); rev != "" {
			line += " " + rev
		}
		fmt.Fprintln(out, line)
		users := consumers[name]
		for j, u := range users {
			b := "├── "
			if j == len(users)-1 {
				b = "└── "
			}
			fmt.Fprintf(out, "%s%s%s %s\n", indent, b, objects.Ref(u), health(u))
		}
	}
	return nil
}

// artifactConsumers maps the name of each ExternalArtifact in namespace to the Kustomizations
// (spec.sourceRef) and HelmReleases (spec.chartRef) there that consume it.
func artifactConsumers(ctx context.Context, c client.Client, namespace string) (map[string][]*unstructured.Unstructured, error) {
	out := map[string][]*unstructured.Unstructured{}
	for kind, field := range map[string]string{"Kustomization": "sourceRef", "HelmRelease": "chartRef"} {
		k, err := objects.FindKind(kind)
		if err != nil {
			return nil, err
		}
		list := k.NewList()
		if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
			return nil, apiError(err)
		}
		for i := range list.Items {
			u := &list.Items[i]
			refKind, _, _ := unstructured.NestedString(u.Object, "spec", field, "kind")
			refNS, _, _ := unstructured.NestedString(u.Object, "spec", field, "namespace")
			name, _, _ := unstructured.NestedString(u.Object, "spec", field, "name")
			if refKind != "ExternalArtifact" || (refNS != "" && refNS != namespace) {
				continue
			}
			u.SetGroupVersionKind(k.GVK())
			out[name] = append(out[name], u)
		}
	}
	return out, nil
}

// generatorOf returns the kind and name of the ArtifactGenerator that produces the
// ExternalArtifact namespace/name, which is what reconciles it.
func generatorOf(ctx context.Context, c client.Client, k *objects.Kind, namespace, name string) (*objects.Kind, string, error) {
	ea, err := getObject(ctx, c, k, namespace, name)
	if err != nil {
		return nil, "", err
	}
	kind, _, _ := unstructured.NestedString(ea.Object, "spec", "sourceRef", "kind")
	gen, _, _ := unstructured.NestedString(ea.Object, "spec", "sourceRef", "name")
	if kind != "ArtifactGenerator" || gen == "" {
		return nil, "", fmt.Errorf("ExternalArtifact %s/%s is not made by an ArtifactGenerator: reconcile its producer", namespace, name)
	}
	gk, err := objects.FindKind(kind)
	return gk, gen, err
}
