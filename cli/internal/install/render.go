package install

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"weir.dev/deploy"
)

// header starts every rendering, so that a file of it says where it came from.
const header = "# Weir's install manifests, rendered by `weir install --export` from deploy/; apply with\n# kubectl apply --server-side -f, or commit them to the repository that installs Weir.\n"

// Render returns the multi-document YAML of deploy/ under o, as kustomize builds an overlay
// with o's namespace, images, version label and components. It validates o first.
func Render(o Options) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	fsys := filesys.MakeFsInMemory()
	err := fs.WalkDir(deploy.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := deploy.FS.ReadFile(p)
		if err != nil {
			return err
		}
		return fsys.WriteFile(path.Join("/deploy", p), b)
	})
	if err != nil {
		return nil, err
	}
	overlay, err := o.overlay()
	if err != nil {
		return nil, err
	}
	if err := fsys.WriteFile("/overlay/kustomization.yaml", overlay); err != nil {
		return nil, err
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, "/overlay")
	if err != nil {
		return nil, fmt.Errorf("rendering deploy/: %w", err)
	}
	y, err := m.AsYaml()
	if err != nil {
		return nil, err
	}
	return append([]byte(header), y...), nil
}

// overlay returns the kustomization.yaml of the overlay o describes.
func (o Options) overlay() ([]byte, error) {
	k := map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"namespace":  o.namespace(),
		"resources":  []string{"../deploy"},
	}
	var components []string
	for _, c := range deploy.Components { // deploy's order, whatever the user's
		if slices.Contains(o.Components, c) {
			components = append(components, "../deploy/components/"+c)
		}
	}
	if len(components) > 0 {
		k["components"] = components
	}
	if o.Registry != "" || o.Version != "" {
		var images []map[string]string
		for _, c := range Controllers {
			name, tag := o.imageParts(c)
			images = append(images, map[string]string{"name": "weir/" + c, "newName": name, "newTag": tag})
		}
		k["images"] = images
	}
	if o.Version != "" {
		k["labels"] = []map[string]any{{
			"pairs":            map[string]string{VersionLabel: o.Version},
			"includeSelectors": false,
			"includeTemplates": true,
		}}
	}
	return yaml.Marshal(k)
}

// VersionLabel is set on every installed object when a version is given.
const VersionLabel = "app.kubernetes.io/version"

// PartOfLabel and PartOfValue mark every object deploy/ installs.
const (
	PartOfLabel = "app.kubernetes.io/part-of"
	PartOfValue = "weir"
)

// Objects returns Render's objects, in order.
func Objects(o Options) ([]*unstructured.Unstructured, error) {
	y, err := Render(o)
	if err != nil {
		return nil, err
	}
	return Decode(y)
}

// Decode decodes multi-document YAML into objects, in their order.
func Decode(y []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(y), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("decoding the manifests: %w", err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// IsCRD reports whether u is a CustomResourceDefinition.
func IsCRD(u *unstructured.Unstructured) bool {
	return u.GetKind() == "CustomResourceDefinition" && u.GroupVersionKind().Group == "apiextensions.k8s.io"
}
