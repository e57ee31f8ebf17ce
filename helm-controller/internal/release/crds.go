package release

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/resource"
)

// ErrCRDsRefused marks a chart whose crds/ directory is not applied: fix the chart, or skip its
// CRDs.
var ErrCRDsRefused = errors.New("chart CRDs refused")

// crdKind is the only kind applied from a chart's crds/ directory.
var crdKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

// chartCRD is one object of a crds/ file, as it will be applied.
type chartCRD struct {
	file string // the file in the chart, e.g. demo/crds/widgets.yaml
	info *resource.Info
}

// ApplyCRDs creates the CRDs of the chart's crds/ directories (its own and its subcharts') that
// do not exist and, with replace, replaces those that do, then waits until the changed ones are
// established and forgets the cached API discovery, so the release that follows can use their
// kinds. CRDs are never deleted. It is the only way objects of crds/ reach the cluster (Helm's
// install is told to skip them).
//
// Before anything is applied it refuses (ErrCRDsRefused) an object that is not a
// CustomResourceDefinition (crds/ is applied outside the release, so it must not carry
// anything else), and a replace that drops a version in the existing CRD's
// status.storedVersions (objects stored at it could no longer be read).
func (r *Runner) ApplyCRDs(ch *chart.Chart, replace bool, timeout time.Duration) error {
	crds, err := r.buildCRDs(ch)
	if err != nil {
		return err
	}
	if replace {
		for _, c := range crds {
			if err := checkStoredVersions(c); err != nil {
				return err
			}
		}
	}
	kc := r.cfg.KubeClient
	var changed kube.ResourceList
	for _, c := range crds {
		one := kube.ResourceList{c.info}
		_, err := kc.Create(one)
		switch {
		case err == nil:
			changed = append(changed, c.info)
		case !apierrors.IsAlreadyExists(err):
			return fmt.Errorf("creating CRD %s: %w", c.info.Name, err)
		case replace:
			if _, err := kc.Update(one, one, true); err != nil {
				return fmt.Errorf("replacing CRD %s: %w", c.info.Name, err)
			}
			changed = append(changed, c.info)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := kc.Wait(changed, timeout); err != nil {
		return fmt.Errorf("waiting for the chart's CRDs to be established: %w", err)
	}
	if dc, err := r.cfg.RESTClientGetter.ToDiscoveryClient(); err == nil && dc != nil {
		dc.Invalidate()
	}
	if mapper, err := r.cfg.RESTClientGetter.ToRESTMapper(); err == nil {
		if resettable, ok := mapper.(apimeta.ResettableRESTMapper); ok {
			resettable.Reset()
		}
	}
	return nil
}

// buildCRDs reads every crds/ file of ch into the objects to apply, refusing any that is not a
// CustomResourceDefinition. Each document's kind is read before Helm's client maps it (an
// unknown kind would otherwise fail with a mapping error), and the mapped kind is checked again.
func (r *Runner) buildCRDs(ch *chart.Chart) ([]chartCRD, error) {
	var out []chartCRD
	for _, f := range ch.CRDObjects() {
		if err := checkCRDKinds(f.Filename, f.File.Data); err != nil {
			return nil, err
		}
		infos, err := r.cfg.KubeClient.Build(bytes.NewReader(f.File.Data), false)
		if err != nil {
			return nil, fmt.Errorf("reading CRD file %s: %w", f.Filename, err)
		}
		for _, info := range infos {
			if gk := info.Mapping.GroupVersionKind.GroupKind(); gk != crdKind {
				return nil, fmt.Errorf("%w: %s holds %s %q, not a CustomResourceDefinition; crds/ may hold only CRDs", ErrCRDsRefused, f.Filename, gk.Kind, info.Name)
			}
			out = append(out, chartCRD{file: f.Filename, info: info})
		}
	}
	return out, nil
}

// checkCRDKinds refuses a crds/ file with a document that is not a CustomResourceDefinition.
// It splits documents the way Helm's client does.
func checkCRDKinds(file string, data []byte) error {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var u unstructured.Unstructured
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading CRD file %s: %w", file, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if gk := u.GroupVersionKind().GroupKind(); gk != crdKind {
			return fmt.Errorf("%w: %s holds %s %q, not a CustomResourceDefinition; crds/ may hold only CRDs", ErrCRDsRefused, file, u.GetKind(), u.GetName())
		}
	}
}

// checkStoredVersions refuses replacing c's existing CRD with one whose spec.versions lacks a
// version of the existing CRD's status.storedVersions. A CRD that does not exist passes.
func checkStoredVersions(c chartCRD) error {
	live, err := resource.NewHelper(c.info.Client, c.info.Mapping).Get("", c.info.Name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading CRD %s: %w", c.info.Name, err)
	}
	stored, err := nestedStrings(live, "status", "storedVersions")
	if err != nil {
		return fmt.Errorf("reading CRD %s: %w", c.info.Name, err)
	}
	desired, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c.info.Object)
	if err != nil {
		return fmt.Errorf("reading CRD %s of %s: %w", c.info.Name, c.file, err)
	}
	versions, _, _ := unstructured.NestedSlice(desired, "spec", "versions")
	var names []string
	for _, v := range versions {
		if m, ok := v.(map[string]any); ok {
			if n, ok := m["name"].(string); ok {
				names = append(names, n)
			}
		}
	}
	for _, s := range stored {
		if !slices.Contains(names, s) {
			return fmt.Errorf("%w: replacing CRD %s with %s would drop version %s, which is in its status.storedVersions (objects are stored at it)",
				ErrCRDsRefused, c.info.Name, c.file, s)
		}
	}
	return nil
}

// nestedStrings reads a string list at path of obj.
func nestedStrings(obj runtime.Object, path ...string) ([]string, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	s, _, err := unstructured.NestedStringSlice(m, path...)
	return s, err
}
