package preview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/kube"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/helm/postrender"
	"weir.dev/pkg/helm/render"
	helmvalues "weir.dev/pkg/helm/values"
)

// HelmOwner is the identity helm-controller writes a release's objects with: its field manager
// (Helm's, which the controller sets to its name) and its API group.
var HelmOwner = ssa.Owner{Field: "helm-controller", Group: helmv1.GroupVersion.Group}

// maxHelmObjects bounds the objects of a rendered release, as helm-controller's default
// --max-objects-per-unit does.
const maxHelmObjects = 5000

// Helm's release metadata on every object it installs or upgrades, and the annotation that
// keeps an object when a release no longer has it.
const (
	helmReleaseNameAnnotation      = "meta.helm.sh/release-name"
	helmReleaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
	helmManagedByLabel             = "app.kubernetes.io/managed-by"
	helmResourcePolicyAnnotation   = "helm.sh/resource-policy"
)

// HelmOptions say where a HelmRelease's chart and values come from besides the cluster.
type HelmOptions struct {
	// ChartPath is a local chart directory rendered instead of the source's artifact; "" for the
	// artifact.
	ChartPath string
	// ValuesFiles are YAML files merged, in order, over the values the HelmRelease composes.
	ValuesFiles []string
}

// HelmRender is a HelmRelease rendered as helm-controller would render it.
type HelmRender struct {
	// Chart is `<name>@<version>` of the chart, Revision the chart revision the controller
	// records (the version, with the artifact digest for OCI sources).
	Chart, Revision string
	// Objects are the manifest's objects, in the release namespace, with Helm's metadata.
	Objects []*unstructured.Unstructured
	// origins maps an object's key (see helmKey) to the template it came from.
	origins map[string]string
}

// RenderHelmRelease renders hr as helm-controller does, as the identity of getter (the user):
// the chart from its source's artifact (downloaded from the artifact's own host only, checked
// against its digest, extracted with the artifact rules) or from o.ChartPath; the values of
// spec.valuesFrom and spec.values, read with c, then o.ValuesFiles over them; a dry-run install
// checked by the cluster, the post-renderers and spec.commonMetadata applied, hooks and crds/
// left out. Errors name the HelmRelease and the field or file at fault. A HelmRelease of a
// remote cluster (spec.kubeConfig) is refused: the cluster diffed is the user's.
func RenderHelmRelease(ctx context.Context, c client.Client, getter genericclioptions.RESTClientGetter, hr *helmv1.HelmRelease, o HelmOptions) (*HelmRender, error) {
	ref := fmt.Sprintf("HelmRelease '%s/%s'", hr.Namespace, hr.Name)
	if hr.Spec.KubeConfig != nil {
		// The release lives in the cluster of that kubeconfig, not in the one diffed here.
		return nil, fmt.Errorf("%s: spec.kubeConfig: the release is in a remote cluster; diff it with that cluster's kubeconfig and a --helmrelease-file without spec.kubeConfig", ref)
	}
	ch, revision, err := helmChart(ctx, c, hr, o.ChartPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	vals, err := helmvalues.Compose(ctx, c, hr.Namespace, hr.Spec.ValuesFrom, hr.Spec.Values)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	for _, f := range o.ValuesFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--values: %w", err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("--values %s: not a YAML object: %w", f, err)
		}
		vals = helmvalues.Merge(vals, m)
	}
	cfg, err := helmConfig(getter, hr)
	if err != nil {
		return nil, err
	}
	chartRef := ch.Metadata.Name + "@" + ch.Metadata.Version
	manifest, err := render.Manifest(ctx, cfg, render.Options{
		ReleaseName:  hr.GetReleaseName(),
		Namespace:    hr.GetReleaseNamespace(),
		Chart:        ch,
		Values:       vals,
		PostRenderer: postrender.Limit{Max: maxHelmObjects, Next: postrender.New(hr.Spec.PostRenderers, hr.Spec.CommonMetadata)},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: rendering chart %s: %w", ref, chartRef, err)
	}
	objects, err := render.Objects(manifest, hr.GetReleaseNamespace(), c.RESTMapper())
	if err != nil {
		return nil, fmt.Errorf("%s: reading the rendered manifest of chart %s: %w", ref, chartRef, err)
	}
	for _, obj := range objects {
		setHelmMetadata(obj, hr)
	}
	return &HelmRender{Chart: chartRef, Revision: revision, Objects: objects, origins: templateOrigins(manifest)}, nil
}

// helmChart loads the chart of hr: the one at chartPath when given, else the artifact of its
// source (spec.chart's HelmChart or spec.chartRef). It returns the chart and its revision.
func helmChart(ctx context.Context, c client.Client, hr *helmv1.HelmRelease, chartPath string) (*chart.Chart, string, error) {
	if chartPath != "" {
		ch, err := render.LoadChart(chartPath)
		if err != nil {
			return nil, "", fmt.Errorf("--chart-path %s: %w", chartPath, err)
		}
		return ch, ch.Metadata.Version, nil
	}
	field, src, oci, err := chartSourceOf(hr)
	if err != nil {
		return nil, "", err
	}
	kind := src.GetObjectKind().GroupVersionKind().Kind
	name := fmt.Sprintf("%s '%s/%s'", kind, src.GetNamespace(), src.GetName())
	if err := c.Get(ctx, client.ObjectKeyFromObject(src), src); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", fmt.Errorf("%s: %s not found", field, name)
		}
		return nil, "", fmt.Errorf("%s: reading %s: %w", field, name, err)
	}
	art := src.GetArtifact()
	if art == nil || art.URL == "" {
		return nil, "", fmt.Errorf("%s: %s has no chart artifact yet (see `weir get sources -n %s`)", field, name, src.GetNamespace())
	}
	dir, err := os.MkdirTemp("", "weir-helm-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(dir)
	f := &artifact.Fetcher{AllowedHost: artifact.Host(art.URL), Retries: 2}
	if err := f.Fetch(ctx, art.URL, art.Digest, dir); err != nil {
		return nil, "", fmt.Errorf("%s: fetching the chart artifact of %s (revision %s): %w", field, name, art.Revision, err)
	}
	ch, err := render.LoadChart(dir)
	if err != nil {
		return nil, "", fmt.Errorf("%s: the artifact of %s (revision %s): %w", field, name, art.Revision, err)
	}
	revision := ch.Metadata.Version
	if _, hex, ok := strings.Cut(art.Digest, ":"); oci && ok {
		revision += "+" + hex[:min(12, len(hex))]
	}
	return ch, revision, nil
}

// chartSource is a kind whose artifact can be a chart.
type chartSource interface {
	client.Object
	GetArtifact() *meta.Artifact
}

// chartSourceOf returns the field naming hr's chart source, an empty object of that source
// with its kind, namespace and name, and whether its revision carries the artifact digest
// (OCIRepository, ExternalArtifact), as helm-controller resolves them.
func chartSourceOf(hr *helmv1.HelmRelease) (string, chartSource, bool, error) {
	var (
		src chartSource
		oci bool
	)
	switch {
	case hr.Spec.Chart != nil:
		ns, name := hr.Status.GetHelmChart()
		if name == "" {
			ns, name = refNamespace(hr.Spec.Chart.Spec.SourceRef.Namespace, hr.Namespace), hr.Namespace+"-"+hr.Name
		}
		hc := &sourcev1.HelmChart{}
		hc.Namespace, hc.Name = ns, name
		hc.SetGroupVersionKind(sourcev1.GroupVersion.WithKind(sourcev1.HelmChartKind))
		return "spec.chart", hc, false, nil
	case hr.Spec.ChartRef != nil:
		ref := hr.Spec.ChartRef
		switch ref.Kind {
		case sourcev1.HelmChartKind:
			src = &sourcev1.HelmChart{}
		case sourcev1.OCIRepositoryKind:
			src, oci = &sourcev1.OCIRepository{}, true
		case sourcev1.ExternalArtifactKind:
			src, oci = &sourcev1.ExternalArtifact{}, true
		default:
			return "", nil, false, fmt.Errorf("spec.chartRef.kind %q is not HelmChart, OCIRepository or ExternalArtifact", ref.Kind)
		}
		src.SetNamespace(refNamespace(ref.Namespace, hr.Namespace))
		src.SetName(ref.Name)
		src.GetObjectKind().SetGroupVersionKind(sourcev1.GroupVersion.WithKind(ref.Kind))
		return "spec.chartRef", src, oci, nil
	}
	return "", nil, false, errors.New("spec: one of chart and chartRef must be set")
}

func refNamespace(ns, def string) string {
	if ns == "" {
		return def
	}
	return ns
}

// helmConfig is Helm's configuration for hr as getter's identity: objects in the release
// namespace, release records in Secrets of the storage namespace.
func helmConfig(getter genericclioptions.RESTClientGetter, hr *helmv1.HelmRelease) (*action.Configuration, error) {
	restCfg, err := getter.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	clientset, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, err
	}
	discard := func(string, ...any) {}
	kc := kube.New(getter)
	kc.Namespace = hr.GetReleaseNamespace()
	kc.Log = discard
	secrets := driver.NewSecrets(clientset.CoreV1().Secrets(hr.GetStorageNamespace()))
	secrets.Log = discard
	return &action.Configuration{RESTClientGetter: getter, KubeClient: kc, Releases: storage.Init(secrets), Log: discard}, nil
}

// setHelmMetadata sets what Helm sets on every object it installs or upgrades.
func setHelmMetadata(obj *unstructured.Unstructured, hr *helmv1.HelmRelease) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[helmReleaseNameAnnotation] = hr.GetReleaseName()
	a[helmReleaseNamespaceAnnotation] = hr.GetReleaseNamespace()
	obj.SetAnnotations(a)
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[helmManagedByLabel] = "Helm"
	obj.SetLabels(l)
}

// helmKey identifies an object of a manifest before its namespace is defaulted.
func helmKey(obj *unstructured.Unstructured) string {
	return obj.GroupVersionKind().GroupKind().String() + "/" + obj.GetName()
}

// templateOrigins maps the objects of a rendered manifest to the template named in the
// `# Source:` comment Helm heads each document with (post-renderers drop them).
func templateOrigins(manifest string) map[string]string {
	out := map[string]string{}
	for _, doc := range strings.Split(manifest, "\n---") {
		var source string
		for _, line := range strings.Split(doc, "\n") {
			if s, ok := strings.CutPrefix(line, "# Source: "); ok {
				source = strings.TrimSpace(s)
				break
			}
		}
		if source == "" {
			continue
		}
		objs, err := ssautils.ReadObjects(strings.NewReader(doc))
		if err != nil {
			continue
		}
		for _, o := range objs {
			out[helmKey(o)] = source
		}
	}
	return out
}

// DiffHelmRelease compares the objects of r with the live cluster by a server-side dry-run
// apply of each one as helm-controller (HelmOwner's field manager), and writes to w one line
// per object and a unified diff of the YAML of each one that would change, as Diff does. The
// objects of the release's current revision (read from Helm's storage as c's identity) that r
// no longer has are shown as deleted, unless annotated helm.sh/resource-policy: keep. Secret
// values are masked on both sides.
func DiffHelmRelease(ctx context.Context, c client.Client, getter genericclioptions.RESTClientGetter, hr *helmv1.HelmRelease, r *HelmRender, w io.Writer) (Result, error) {
	res := Result{Changes: map[Change]int{}}
	manager := ssa.NewResourceManager(c, nil, HelmOwner)
	origin := func(obj *unstructured.Unstructured) string {
		if o := r.origins[helmKey(obj)]; o != "" {
			return o + ": "
		}
		return ""
	}
	rendered, err := diffObjects(ctx, manager, ssa.DiffOptions{}, r.Objects, origin, w, res)
	if err != nil {
		return res, fmt.Errorf("HelmRelease '%s/%s': %w", hr.Namespace, hr.Name, err)
	}
	current, err := currentObjects(c, getter, hr)
	if err != nil {
		return res, err
	}
	for _, obj := range current {
		id := object.UnstructuredToObjMetadata(obj)
		if rendered[id] || obj.GetAnnotations()[helmResourcePolicyAnnotation] == "keep" {
			continue
		}
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(obj.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return res, err
		}
		if live.GetAnnotations()[helmResourcePolicyAnnotation] == "keep" {
			continue
		}
		res.Changes[Deleted]++
		if err := report(w, subject(id), Deleted, live, nil); err != nil {
			return res, err
		}
	}
	return res, nil
}

// currentObjects returns the objects of the release's newest revision in Helm's storage, none
// when there is no release or it is uninstalled; status.inventory's when the user may not
// read Helm's storage.
func currentObjects(c client.Client, getter genericclioptions.RESTClientGetter, hr *helmv1.HelmRelease) ([]*unstructured.Unstructured, error) {
	cfg, err := helmConfig(getter, hr)
	if err != nil {
		return nil, err
	}
	rel, err := cfg.Releases.Last(hr.GetReleaseName())
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
		return nil, nil
	case apierrors.IsForbidden(err):
		// Reading release records needs `list secrets` in the storage namespace; without it,
		// the controller's record of the release's objects stands in.
		return inventoryObjects(hr)
	case err != nil:
		return nil, fmt.Errorf("HelmRelease '%s/%s': reading release %s from Helm's storage in namespace %s: %w",
			hr.Namespace, hr.Name, hr.GetReleaseName(), hr.GetStorageNamespace(), err)
	case rel.Info != nil && rel.Info.Status == helmrelease.StatusUninstalled:
		return nil, nil
	}
	objs, err := render.Objects(rel.Manifest, hr.GetReleaseNamespace(), c.RESTMapper())
	if err != nil {
		return nil, fmt.Errorf("HelmRelease '%s/%s': reading the manifest of release %s revision %d: %w", hr.Namespace, hr.Name, rel.Name, rel.Version, err)
	}
	return objs, nil
}

// inventoryObjects returns the objects status.inventory lists, each with only its identity.
func inventoryObjects(hr *helmv1.HelmRelease) ([]*unstructured.Unstructured, error) {
	if hr.Status.Inventory == nil {
		return nil, nil
	}
	out := make([]*unstructured.Unstructured, 0, len(hr.Status.Inventory.Entries))
	for _, ref := range hr.Status.Inventory.Entries {
		id, err := object.ParseObjMetadata(ref.ID)
		if err != nil {
			return nil, fmt.Errorf("HelmRelease '%s/%s': status.inventory: %w", hr.Namespace, hr.Name, err)
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(groupVersion(id.GroupKind.Group, ref.Version))
		u.SetKind(id.GroupKind.Kind)
		u.SetNamespace(id.Namespace)
		u.SetName(id.Name)
		out = append(out, u)
	}
	return out, nil
}
