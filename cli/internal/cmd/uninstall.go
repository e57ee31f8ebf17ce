package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/install"
	"weir.dev/cli/internal/objects"
)

func init() { register(newUninstallCmd) }

func newUninstallCmd(g *Globals) *cobra.Command {
	u := &uninstaller{g: g}
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove Weir from the cluster, leaving what it applied in place",
		Long: "uninstall removes Weir's controllers, their RBAC, its CRDs (and with them every Weir object)\n" +
			"and its namespace, and leaves everything Weir applied: workloads, ConfigMaps, Helm releases.\n" +
			"It stops the controllers first, so that no reconcile is in flight, then removes the\n" +
			"finalizers of every Weir object, so that deleting them prunes and uninstalls nothing.",
		Example: `  # See what would be removed
  weir uninstall --dry-run

  # Remove Weir installed in another namespace, keeping the namespace
  weir uninstall --namespace gitops --keep-namespace`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.Client()
			if err != nil {
				return err
			}
			u.c = c
			if cmd.Flags().Changed("namespace") {
				u.namespace = *g.Kube.Namespace
			}
			return u.run(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&u.keepNamespace, "keep-namespace", false, "keep the controllers' namespace (and whatever else it holds)")
	cmd.Flags().BoolVar(&u.dryRun, "dry-run", false, "print what would be removed and change nothing")
	cmd.Flags().DurationVar(&u.timeout, "timeout", 2*time.Minute, "how long to wait for the controllers to stop")
	return cmd
}

// uninstaller removes one install of Weir.
type uninstaller struct {
	g             *Globals
	c             client.Client
	namespace     string
	keepNamespace bool
	dryRun        bool
	timeout       time.Duration
}

func (u *uninstaller) run(ctx context.Context) error {
	if err := u.findNamespace(ctx); err != nil {
		return err
	}
	if u.dryRun {
		progress(u.g, "Dry run: nothing is changed.")
	}
	if err := u.reportApplied(ctx); err != nil {
		return err
	}
	if err := u.stopControllers(ctx); err != nil {
		return err
	}
	if err := u.releaseObjects(ctx); err != nil {
		return err
	}
	if err := u.deleteCRDs(ctx); err != nil {
		return err
	}
	if err := u.deleteRest(ctx); err != nil {
		return err
	}
	if u.dryRun {
		progress(u.g, "✔ dry run complete")
	} else {
		progress(u.g, "✔ Weir is uninstalled; what it applied is still there")
	}
	return nil
}

// findNamespace picks the namespace: --namespace, else the one namespace with Weir's
// controllers, else weir-system.
func (u *uninstaller) findNamespace(ctx context.Context) error {
	if u.namespace != "" {
		return nil
	}
	found, err := installedControllers(ctx, u.c)
	if err != nil {
		return err
	}
	namespaces := map[string]bool{}
	for _, d := range found {
		namespaces[d.Namespace] = true
	}
	switch len(namespaces) {
	case 0:
		u.namespace = install.DefaultNamespace
	case 1:
		u.namespace = found[0].Namespace
	default:
		return fmt.Errorf("Weir's controllers run in several namespaces (%v): name one with --namespace", keys(namespaces))
	}
	return nil
}

// reportApplied says how much Weir applied, all of which stays.
func (u *uninstaller) reportApplied(ctx context.Context) error {
	applied, inNamespace, releases := 0, 0, 0
	for _, k := range objects.Kinds {
		if k.Kind != "Kustomization" && k.Kind != "HelmRelease" {
			continue
		}
		list, err := u.list(ctx, k)
		if err != nil {
			return err
		}
		if k.Kind == "HelmRelease" {
			releases += len(list)
		}
		for _, o := range list {
			for _, e := range objects.Inventory(o) {
				applied++
				if ns, _, _, err := objects.ParseInventoryID(e.ID); err == nil && ns == u.namespace {
					inNamespace++
				}
			}
		}
	}
	progress(u.g, "◎ Weir's Kustomizations and HelmReleases manage %d objects and %d Helm releases: they stay", applied, releases)
	if inNamespace > 0 && !u.keepNamespace {
		progress(u.g, "! %d of them are in %s, which is deleted with it: use --keep-namespace to keep them", inNamespace, u.namespace)
	}
	return nil
}

// stopControllers deletes the controllers' Deployments and waits until their Pods are gone, so
// that no controller acts on what follows.
func (u *uninstaller) stopControllers(ctx context.Context) error {
	found, err := installedControllers(ctx, u.c)
	if err != nil {
		return err
	}
	for _, d := range found {
		if d.Namespace != u.namespace {
			continue
		}
		if u.dryRun {
			progress(u.g, "◎ would stop %s (delete Deployment %s/%s)", d.Name, d.Namespace, d.Name)
			continue
		}
		if err := u.c.Delete(ctx, &d, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("stopping %s: %w", d.Name, err)
		}
	}
	if u.dryRun {
		return nil
	}
	deadline := time.Now().Add(u.timeout)
	for {
		var pods corev1.PodList
		err := u.c.List(ctx, &pods, client.InNamespace(u.namespace), client.MatchingLabels{install.PartOfLabel: install.PartOfValue})
		if err != nil {
			return fmt.Errorf("waiting for the controllers to stop: %w", err)
		}
		if len(pods.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d controller Pods still run in %s after %s (e.g. %s); nothing else was removed: run `weir uninstall` again once they are gone",
				len(pods.Items), u.namespace, u.timeout, pods.Items[0].Name)
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	progress(u.g, "✔ stopped the controllers in %s", u.namespace)
	return nil
}

// releaseObjects removes the finalizers of every Weir object, so that deleting it (with its
// CRD) neither prunes what it applied nor uninstalls its Helm release.
func (u *uninstaller) releaseObjects(ctx context.Context) error {
	released, total := 0, 0
	for _, k := range objects.Kinds {
		list, err := u.list(ctx, k)
		if err != nil {
			return err
		}
		total += len(list)
		for _, o := range list {
			if len(o.GetFinalizers()) == 0 {
				continue
			}
			released++
			if u.dryRun {
				continue
			}
			patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))
			if err := u.c.Patch(ctx, o, patch); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("removing the finalizers of %s: %w", objects.Ref(o), err)
			}
		}
	}
	verb := "removed"
	if u.dryRun {
		verb = "would remove"
	}
	progress(u.g, "✔ %s the finalizers of %d of %d Weir objects", verb, released, total)
	return nil
}

// deleteCRDs deletes Weir's CRDs; the API server deletes their objects with them.
func (u *uninstaller) deleteCRDs(ctx context.Context) error {
	n := 0
	for _, k := range objects.Kinds {
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(crdGVK)
		crd.SetName(k.Plural + "." + k.GroupVersion.Group)
		if u.dryRun {
			if err := u.c.Get(ctx, client.ObjectKeyFromObject(crd), crd); err == nil {
				n++
			}
			continue
		}
		if err := u.c.Delete(ctx, crd); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("deleting CRD %s: %w", crd.GetName(), err)
		}
		n++
	}
	verb := "deleted"
	if u.dryRun {
		verb = "would delete"
	}
	progress(u.g, "✔ %s %d CRDs, and the Weir objects in them", verb, n)
	return nil
}

// deleteRest deletes the RBAC, Services, NetworkPolicies and ServiceAccounts labelled as
// Weir's, then the namespace unless --keep-namespace.
func (u *uninstaller) deleteRest(ctx context.Context) error {
	rest, err := labelledObjects(ctx, u.c, u.namespace)
	if err != nil {
		return err
	}
	for _, o := range rest {
		if u.dryRun {
			progress(u.g, "◎ would delete %s", objects.Ref(o))
			continue
		}
		if err := u.c.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %s: %w", objects.Ref(o), err)
		}
	}
	if !u.dryRun {
		progress(u.g, "✔ deleted %d RBAC objects, Services, NetworkPolicies and ServiceAccounts", len(rest))
	}
	if u.keepNamespace {
		return nil
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: u.namespace}}
	if u.dryRun {
		progress(u.g, "◎ would delete namespace %s", u.namespace)
		return nil
	}
	if err := u.c.Delete(ctx, ns); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting namespace %s: %w", u.namespace, err)
	}
	progress(u.g, "✔ deleted namespace %s", u.namespace)
	return nil
}

// list returns every object of k in the cluster; none when its CRD is gone.
func (u *uninstaller) list(ctx context.Context, k *objects.Kind) ([]*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(k.GroupVersion.WithKind(k.Kind + "List"))
	if err := u.c.List(ctx, list); err != nil {
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing %s: %w", k.Plural, err)
	}
	out := make([]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}

var crdGVK = apiextensionsGVK("CustomResourceDefinition")
