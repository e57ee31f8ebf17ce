package cmd

import (
	"context"

	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/install"
	"weir.dev/cli/internal/objects"
)

// installer applies one rendering of deploy/ to a cluster.
type installer struct {
	g       *Globals
	c       client.Client
	opts    install.Options
	objs    []*unstructured.Unstructured
	timeout time.Duration
}

// run checks the cluster and the user, applies the CRDs and waits until they are Established,
// applies the rest, removes what an earlier install left that this one lacks and, with wait,
// waits until every controller is ready. Nothing is applied when a check fails.
func (in *installer) run(ctx context.Context, wait bool) error {
	if err := checkKubernetesVersion(in.g); err != nil {
		return err
	}
	if err := in.checkAccess(ctx); err != nil {
		return err
	}
	if err := in.checkExisting(ctx); err != nil {
		return err
	}
	var crds, rest []*unstructured.Unstructured
	for _, u := range in.objs {
		if install.IsCRD(u) {
			crds = append(crds, u)
		} else {
			rest = append(rest, u)
		}
	}
	for _, u := range crds {
		if err := in.apply(ctx, u); err != nil {
			return err
		}
	}
	progress(in.g, "✔ applied %d CRDs", len(crds))
	if err := waitEstablished(ctx, in.c, crds, in.timeout); err != nil {
		return err
	}
	progress(in.g, "✔ CRDs Established")
	for _, u := range rest {
		if err := in.apply(ctx, u); err != nil {
			return err
		}
	}
	progress(in.g, "✔ applied %d objects in %s and cluster-wide", len(rest), in.opts.Namespace)
	if err := in.removeStale(ctx); err != nil {
		return err
	}
	if !wait {
		progress(in.g, "◎ the controllers are starting: see `weir check --controllers-namespace %s`", in.opts.Namespace)
		return nil
	}
	return waitControllers(ctx, in.g, in.c, in.opts.Namespace, deploymentNames(in.objs), in.timeout)
}

func (in *installer) apply(ctx context.Context, u *unstructured.Unstructured) error {
	err := in.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner(installOwner), client.ForceOwnership)
	if err != nil {
		return fmt.Errorf("applying %s: %w", objects.Ref(u), err)
	}
	return nil
}

// accessChecks are what an install creates that only a cluster administrator may: the first
// one denied is named in the error.
var accessChecks = []authorizationv1.ResourceAttributes{
	{Verb: "create", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
	{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
	{Verb: "create", Resource: "namespaces"},
	{Verb: "*", Group: "*", Resource: "*"},
}

// checkAccess refuses, before anything is applied, a user who is not a cluster administrator:
// the install creates CRDs and ClusterRoles and binds them, which Kubernetes allows only to a
// user who holds every permission granted.
func (in *installer) checkAccess(ctx context.Context) error {
	for _, ra := range accessChecks {
		ssar := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}
		if err := in.c.Create(ctx, ssar); err != nil {
			return fmt.Errorf("checking your permissions: %w", err)
		}
		if !ssar.Status.Allowed {
			what := ra.Verb + " " + ra.Resource
			if ra.Group != "" && ra.Group != "*" {
				what += "." + ra.Group
			}
			if ra.Verb == "*" {
				what = "do everything (cluster-admin)"
			}
			return fmt.Errorf("weir install needs a cluster administrator (it creates CRDs, ClusterRoles and their bindings): your user may not %s; nothing was applied", what)
		}
	}
	return nil
}

// checkExisting refuses to install next to a Weir in another namespace (they would share the
// CRDs and fight over every object) and says when this install is an upgrade.
func (in *installer) checkExisting(ctx context.Context) error {
	found, err := installedControllers(ctx, in.c)
	if err != nil {
		return err
	}
	for _, d := range found {
		if d.Namespace != in.opts.Namespace {
			return fmt.Errorf("Weir %s is already installed in namespace %s: install there (--namespace %s), or remove it first with `weir uninstall --namespace %s`; nothing was applied",
				versionOf(&d), d.Namespace, d.Namespace, d.Namespace)
		}
	}
	if len(found) > 0 {
		from, to := versionOf(&found[0]), in.opts.Version
		if to == "" {
			to = "dev"
		}
		if from != to {
			progress(in.g, "◎ upgrading Weir in %s from %s to %s", in.opts.Namespace, from, to)
		} else {
			progress(in.g, "◎ Weir %s is installed in %s: applying it again", from, in.opts.Namespace)
		}
	}
	return nil
}

// installedControllers lists the Deployments an install made, in every namespace, by name.
func installedControllers(ctx context.Context, c client.Client) ([]appsv1.Deployment, error) {
	var list appsv1.DeploymentList
	if err := c.List(ctx, &list, client.MatchingLabels{install.PartOfLabel: install.PartOfValue}); err != nil {
		return nil, fmt.Errorf("looking for an installed Weir: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool {
		return list.Items[i].Namespace+"/"+list.Items[i].Name < list.Items[j].Namespace+"/"+list.Items[j].Name
	})
	return list.Items, nil
}

// versionOf returns the version a controller's Deployment was installed at: its version label,
// else its image's tag.
func versionOf(d *appsv1.Deployment) string {
	if v := d.Labels[install.VersionLabel]; v != "" {
		return v
	}
	if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 {
		if i := strings.LastIndex(cs[0].Image, ":"); i > strings.LastIndex(cs[0].Image, "/") {
			return cs[0].Image[i+1:]
		}
	}
	return "(unknown)"
}

// staleKinds are the kinds an install may leave behind when a later one no longer renders
// them. CRDs and the namespace are never removed here: that would delete users' objects.
var staleKinds = []schema.GroupVersionKind{
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"},
	{Group: "apps", Version: "v1", Kind: "Deployment"},
	{Version: "v1", Kind: "Service"},
	{Version: "v1", Kind: "ServiceAccount"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
}

// removeStale deletes the objects labelled as Weir's, in the install's namespace or
// cluster-wide, that this rendering does not have: e.g. the cluster-admin bindings once the
// lockdown component is added, or a shard that was removed.
func (in *installer) removeStale(ctx context.Context) error {
	want := map[string]bool{}
	for _, u := range in.objs {
		want[objectKey(u.GroupVersionKind(), u.GetNamespace(), u.GetName())] = true
	}
	stale, err := labelledObjects(ctx, in.c, in.opts.Namespace)
	if err != nil {
		return err
	}
	for _, u := range stale {
		if want[objectKey(u.GroupVersionKind(), u.GetNamespace(), u.GetName())] {
			continue
		}
		if err := in.c.Delete(ctx, u); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing %s, which this install no longer has: %w", objects.Ref(u), err)
		}
		progress(in.g, "✔ removed %s (no longer part of this install)", objects.Ref(u))
	}
	return nil
}

// labelledObjects returns the objects of staleKinds labelled as Weir's, in namespace or
// cluster-wide.
func labelledObjects(ctx context.Context, c client.Client, namespace string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, gvk := range staleKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		opts := []client.ListOption{client.MatchingLabels{install.PartOfLabel: install.PartOfValue}}
		if !strings.HasPrefix(gvk.Kind, "Cluster") {
			opts = append(opts, client.InNamespace(namespace))
		}
		if err := c.List(ctx, list, opts...); err != nil {
			return nil, fmt.Errorf("listing %ss labelled %s=%s: %w", gvk.Kind, install.PartOfLabel, install.PartOfValue, err)
		}
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

func objectKey(gvk schema.GroupVersionKind, namespace, name string) string {
	return gvk.Group + "/" + gvk.Kind + "/" + namespace + "/" + name
}

// deploymentNames returns the names of the Deployments among objs.
func deploymentNames(objs []*unstructured.Unstructured) []string {
	var names []string
	for _, u := range objs {
		if u.GetKind() == "Deployment" {
			names = append(names, u.GetName())
		}
	}
	return names
}

// waitEstablished waits until every CRD of crds is Established.
func waitEstablished(ctx context.Context, c client.Client, crds []*unstructured.Unstructured, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, u := range crds {
		for {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := c.Get(ctx, client.ObjectKey{Name: u.GetName()}, crd); err != nil {
				return err
			}
			if established(crd) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s is not Established after %s", u.GetName(), timeout)
			}
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitControllers waits until each named Deployment in namespace is Current (kstatus),
// printing each as it becomes ready. On timeout it names each one that is not, with kstatus's
// message and what its Pods wait for (e.g. an image that cannot be pulled).
func waitControllers(ctx context.Context, g *Globals, c client.Client, namespace string, names []string, timeout time.Duration) error {
	progress(g, "◎ waiting for %s to be ready (up to %s)", strings.Join(names, ", "), timeout)
	deadline := time.Now().Add(timeout)
	pending := slices.Clone(names)
	why := map[string]string{}
	for len(pending) > 0 {
		var still []string
		for _, name := range pending {
			d := &appsv1.Deployment{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, d); err != nil {
				if !apierrors.IsNotFound(err) {
					return err
				}
				still, why[name] = append(still, name), "the Deployment does not exist"
				continue
			}
			res, err := deploymentStatus(d)
			if err != nil {
				return err
			}
			if res.Status == status.CurrentStatus {
				progress(g, "✔ %s ready (%s)", name, imageOf(d))
				continue
			}
			still, why[name] = append(still, name), res.Message
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, name := range pending {
				progress(g, "✗ %s: %s%s", name, why[name], podTrouble(ctx, c, namespace, name))
			}
			return fmt.Errorf("%s not ready after %s: see above; `weir install` again resumes", strings.Join(pending, ", "), timeout)
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	progress(g, "✔ Weir is installed in %s", namespace)
	return nil
}

func deploymentStatus(d *appsv1.Deployment) (*status.Result, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	return status.Compute(u)
}

func imageOf(d *appsv1.Deployment) string {
	if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 {
		return cs[0].Image
	}
	return ""
}

// podTrouble returns what the Pods of the Deployment called name wait for, e.g.
// "; pod x: ImagePullBackOff: …", or "" when nothing is known.
func podTrouble(ctx context.Context, c client.Client, namespace, name string) string {
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, d); err != nil || d.Spec.Selector == nil {
		return ""
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return ""
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return ""
	}
	if len(pods.Items) == 0 {
		return "; no Pods yet (is kube-controller-manager running, and may the ReplicaSet create Pods? see `kubectl describe replicaset`)"
	}
	var parts []string
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && w.Reason != "" {
				msg := fmt.Sprintf("pod %s: %s", p.Name, w.Reason)
				if w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff" {
					msg += fmt.Sprintf(" (image %s: build and push the images with `make push REGISTRY=… VERSION=…`, then install with --registry and --version)", cs.Image)
				} else if w.Message != "" {
					msg += ": " + w.Message
				}
				parts = append(parts, msg)
			}
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse {
				parts = append(parts, fmt.Sprintf("pod %s: not scheduled: %s", p.Name, cond.Message))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// sleep waits d, or returns ctx's error when it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func apiextensionsGVK(kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: kind}
}

// keys returns m's keys, sorted.
func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
