package postrender

import (
	"bytes"
	"fmt"

	"helm.sh/helm/v3/pkg/postrender"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/yamlguard"
)

// Chain runs post-renderers in order; it is Helm's postrender.PostRenderer.
type Chain []postrender.PostRenderer

// Run passes the manifests through each post-renderer in turn.
func (c Chain) Run(manifests *bytes.Buffer) (*bytes.Buffer, error) {
	var err error
	for _, p := range c {
		if manifests, err = p.Run(manifests); err != nil {
			return nil, err
		}
	}
	return manifests, nil
}

// New returns the post-renderer of spec.postRenderers followed by the one setting
// spec.commonMetadata on every object, or nil when there is none.
func New(renderers []helmv1.PostRenderer, common *meta.CommonMetadata) postrender.PostRenderer {
	var c Chain
	for _, r := range renderers {
		if r.Kustomize != nil && (len(r.Kustomize.Patches) > 0 || len(r.Kustomize.Images) > 0) {
			c = append(c, &Kustomize{Spec: *r.Kustomize})
		}
	}
	if common != nil && (len(common.Labels) > 0 || len(common.Annotations) > 0) {
		c = append(c, &Kustomize{Labels: common.Labels, Annotations: common.Annotations})
	}
	if len(c) == 0 {
		return nil
	}
	return c
}

// Kustomize applies one kustomize post-renderer.
type Kustomize struct {
	Spec helmv1.Kustomize
	// Labels and Annotations are set on every object; labels are not added to selectors.
	Labels, Annotations map[string]string
}

// Run builds a kustomization of the manifests with the patches, images, labels and
// annotations.
func (k *Kustomize) Run(manifests *bytes.Buffer) (*bytes.Buffer, error) {
	// kustomize's YAML library dies of a stack overflow on a recursive alias: refuse one in
	// the chart's output or in a patch before it reads them.
	if err := yamlguard.Check("kustomize post-renderer: the chart's rendered manifests", manifests.Bytes()); err != nil {
		return nil, err
	}
	for i, p := range k.Spec.Patches {
		if err := yamlguard.Check(fmt.Sprintf("kustomize post-renderer: patches[%d].patch", i), []byte(p.Patch)); err != nil {
			return nil, err
		}
	}
	fs := filesys.MakeFsInMemory()
	if err := fs.WriteFile("/render/helm-output.yaml", manifests.Bytes()); err != nil {
		return nil, err
	}
	kus := kustypes.Kustomization{
		TypeMeta:  kustypes.TypeMeta{APIVersion: kustypes.KustomizationVersion, Kind: kustypes.KustomizationKind},
		Resources: []string{"helm-output.yaml"},
	}
	for _, p := range k.Spec.Patches {
		kus.Patches = append(kus.Patches, kustypes.Patch{Patch: p.Patch, Target: selector(p.Target)})
	}
	for _, img := range k.Spec.Images {
		kus.Images = append(kus.Images, kustypes.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
	}
	if len(k.Labels) > 0 {
		kus.Labels = []kustypes.Label{{Pairs: k.Labels}}
	}
	kus.CommonAnnotations = k.Annotations
	b, err := yaml.Marshal(kus)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("/render/kustomization.yaml", b); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = kustypes.LoadRestrictionsRootOnly
	opts.PluginConfig = kustypes.DisabledPluginConfig()
	resMap, err := krusty.MakeKustomizer(opts).Run(fs, "/render")
	if err != nil {
		return nil, fmt.Errorf("kustomize post-renderer: %w", err)
	}
	out, err := resMap.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize post-renderer: %w", err)
	}
	return bytes.NewBuffer(out), nil
}

// selector converts a patch target.
func selector(s *meta.Selector) *kustypes.Selector {
	if s == nil {
		return nil
	}
	return &kustypes.Selector{
		ResId: resid.ResId{
			Gvk:       resid.Gvk{Group: s.Group, Version: s.Version, Kind: s.Kind},
			Name:      s.Name,
			Namespace: s.Namespace,
		},
		AnnotationSelector: s.AnnotationSelector,
		LabelSelector:      s.LabelSelector,
	}
}
