package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	sourcev1 "weir.dev/api/source/v1"
)

// HelmRelease is `weir create helmrelease`.
type HelmRelease struct {
	Meta
	// Source is `Kind/name[.namespace]` of a HelmRepository, GitRepository or OCIRepository:
	// a HelmChart is made from Chart and ChartVersion.
	Source       string
	Chart        string
	ChartVersion string
	// ChartRef is `Kind/name[.namespace]` of an OCIRepository or HelmChart holding the
	// chart, instead of Source and Chart.
	ChartRef string
	// ValuesFiles are YAML files merged, in order, into spec.values.
	ValuesFiles []string
	// ValuesFrom are `Kind/name` of ConfigMaps and Secrets with a values.yaml key.
	ValuesFrom      []string
	TargetNamespace string
	// CreateTargetNamespace creates TargetNamespace on install.
	CreateTargetNamespace bool
	ReleaseName           string
	ServiceAccount        string
	// DependsOn are `[Kind/]name[.namespace]`, HelmRelease when no kind is given.
	DependsOn []string
	Interval  time.Duration
}

// Objects returns the HelmRelease.
func (h HelmRelease) Objects() ([]Object, error) {
	om, err := h.objectMeta("HelmRelease")
	if err != nil {
		return nil, err
	}
	iv, err := interval("interval", h.Interval)
	if err != nil {
		return nil, err
	}
	hr := &helmv1.HelmRelease{ObjectMeta: om, Spec: helmv1.HelmReleaseSpec{Interval: iv}}
	hr.SetGroupVersionKind(helmv1.GroupVersion.WithKind(helmv1.HelmReleaseKind))
	switch {
	case h.ChartRef != "" && (h.Source != "" || h.Chart != "" || h.ChartVersion != ""):
		return nil, errors.New("--chart-ref excludes --source, --chart and --chart-version")
	case h.ChartRef != "":
		r, err := parseRef(refSpec{flag: "chart-ref", kinds: []string{sourcev1.OCIRepositoryKind, sourcev1.HelmChartKind}}, h.ChartRef)
		if err != nil {
			return nil, err
		}
		hr.Spec.ChartRef = &helmv1.CrossNamespaceSourceReference{Kind: r.Kind, Name: r.Name, Namespace: r.Namespace}
	case h.Source == "" || h.Chart == "":
		return nil, errors.New("give --source and --chart (e.g. --source HelmRepository/podinfo --chart podinfo), or --chart-ref")
	default:
		r, err := parseRef(refSpec{flag: "source", kinds: []string{sourcev1.HelmRepositoryKind, sourcev1.GitRepositoryKind, sourcev1.OCIRepositoryKind}}, h.Source)
		if err != nil {
			return nil, err
		}
		if r.Kind == sourcev1.HelmRepositoryKind {
			if err := checkName("--chart", h.Chart); err != nil {
				return nil, fmt.Errorf("%w (a HelmRepository's chart is a chart name)", err)
			}
		} else if _, err := relativePath(h.Chart); err != nil {
			return nil, fmt.Errorf("--chart %q: the chart's directory in the source must be relative and stay inside it", h.Chart)
		}
		hr.Spec.Chart = &helmv1.HelmChartTemplate{Spec: helmv1.HelmChartTemplateSpec{
			Chart: h.Chart, Version: h.ChartVersion,
			SourceRef: helmv1.CrossNamespaceObjectReference{Kind: r.Kind, Name: r.Name, Namespace: r.Namespace},
		}}
	}
	if h.TargetNamespace != "" {
		if err := checkLabel("target-namespace", h.TargetNamespace); err != nil {
			return nil, err
		}
		hr.Spec.TargetNamespace = h.TargetNamespace
	}
	if h.CreateTargetNamespace {
		if h.TargetNamespace == "" {
			return nil, errors.New("--create-target-namespace needs --target-namespace")
		}
		hr.Spec.Install = &helmv1.Install{CreateNamespace: true}
	}
	if h.ReleaseName != "" {
		if err := checkName("--release-name", h.ReleaseName); err != nil {
			return nil, err
		}
		hr.Spec.ReleaseName = h.ReleaseName
	}
	if h.ServiceAccount != "" {
		if err := checkName("--service-account", h.ServiceAccount); err != nil {
			return nil, err
		}
		hr.Spec.ServiceAccountName = h.ServiceAccount
	}
	deps, err := parseRefs(refSpec{flag: "depends-on", kinds: []string{helmv1.HelmReleaseKind, kustomizev1.KustomizationKind}, def: helmv1.HelmReleaseKind}, h.DependsOn)
	if err != nil {
		return nil, err
	}
	for _, d := range deps {
		hr.Spec.DependsOn = append(hr.Spec.DependsOn, helmv1.DependencyReference{Kind: d.Kind, Name: d.Name, Namespace: d.Namespace})
	}
	from, err := parseRefs(refSpec{flag: "values-from", kinds: []string{"ConfigMap", "Secret"}, noNamespace: true}, h.ValuesFrom)
	if err != nil {
		return nil, err
	}
	for _, f := range from {
		hr.Spec.ValuesFrom = append(hr.Spec.ValuesFrom, helmv1.ValuesReference{Kind: f.Kind, Name: f.Name})
	}
	values, err := mergeValuesFiles(h.ValuesFiles)
	if err != nil {
		return nil, err
	}
	if values != nil {
		raw, err := json.Marshal(values)
		if err != nil {
			return nil, err
		}
		hr.Spec.Values = &apiextensionsv1.JSON{Raw: raw}
	}
	return []Object{hr}, nil
}

// mergeValuesFiles reads YAML maps from files and merges them in order, as Helm merges -f
// files: maps deeply, anything else replaced. nil when there are no files.
func mergeValuesFiles(files []string) (map[string]any, error) {
	var merged map[string]any
	for _, f := range files {
		b, err := readFile("values", f)
		if err != nil {
			return nil, err
		}
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("--values %s: not YAML: %v", f, err)
		}
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return nil, fmt.Errorf("--values %s: holds a %T, not a map of values", f, v)
		}
		merged = mergeMaps(merged, m)
	}
	return merged, nil
}

func mergeMaps(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeMaps(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}
