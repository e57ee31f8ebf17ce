package manifest

import (
	"bytes"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"weir.dev/api/meta"
)

// Object is a typed API object with its apiVersion and kind set.
type Object = client.Object

// Builder is one `weir create` subcommand's flags: Objects checks them and returns what to
// apply, in order (a Secret before the object that reads it).
type Builder interface {
	Objects() ([]Object, error)
}

// ToUnstructured turns typed objects into their manifests: apiVersion and kind set, no
// status and no empty creationTimestamp.
func ToUnstructured(objs []Object) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("%T %s has no apiVersion or kind", o, o.GetName())
		}
		delete(u.Object, "status")
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		if spec, ok := u.Object["spec"].(map[string]any); ok && len(spec) == 0 {
			delete(u.Object, "spec") // a Namespace's
		}
		out = append(out, u)
	}
	return out, nil
}

// YAML prints objects as a YAML stream, `---` between them.
func YAML(objs []*unstructured.Unstructured) ([]byte, error) {
	var b bytes.Buffer
	for i, u := range objs {
		y, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}

// serverAnnotations are annotations clients and the API server set, never the user's intent.
var serverAnnotations = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
	meta.ReconcileRequestAnnotation,
	"deployment.kubernetes.io/revision",
}

// Clean returns a copy of u that re-applies as it is: no status, no fields the API server
// or a controller fills in (uid, resourceVersion, generation, creationTimestamp,
// managedFields, deletion state, finalizers, ownerReferences), and no last-applied or
// reconcile-request annotations.
func Clean(u *unstructured.Unstructured) *unstructured.Unstructured {
	c := u.DeepCopy()
	delete(c.Object, "status")
	for _, f := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
		"deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "finalizers", "ownerReferences"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	if a := c.GetAnnotations(); a != nil {
		for _, k := range serverAnnotations {
			delete(a, k)
		}
		if len(a) == 0 {
			a = nil
		}
		c.SetAnnotations(a)
	}
	return c
}

// SortByNamespaceName sorts objs by namespace, then name, keeping kinds in the order given
// when stable is used across kinds.
func SortByNamespaceName(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool {
		if objs[i].GetNamespace() != objs[j].GetNamespace() {
			return objs[i].GetNamespace() < objs[j].GetNamespace()
		}
		return objs[i].GetName() < objs[j].GetName()
	})
}
