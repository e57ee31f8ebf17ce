package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/cli/internal/objects"
)

func init() { register(newTraceCmd) }

// Ownership marks of the objects Weir applies.
const (
	kustomizeNameLabel      = "kustomize.weir.dev/name"
	kustomizeNamespaceLabel = "kustomize.weir.dev/namespace"
	helmReleaseNameAnno     = "meta.helm.sh/release-name"
	helmReleaseNSAnno       = "meta.helm.sh/release-namespace"
)

// maxTraceDepth bounds the chain of Kustomizations applying Kustomizations that trace follows.
const maxTraceDepth = 10

func newTraceCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "trace <kind>/<name>",
		Short: "Show which Kustomization or HelmRelease manages an object, from which source",
		Long: "trace finds the Kustomization or HelmRelease that applied an object (from its ownership\n" +
			"labels and Helm's annotations), then the one that applied that, and so on, with each one's\n" +
			"source, revision and Ready status. Any kind kubectl knows works, by name or short name.",
		Example: `  # Where does this Deployment come from?
  weir trace deployment/web -n apps

  # Short names and kind.group work too
  weir trace svc/podinfo -n apps
  weir trace ingresses.networking.k8s.io/web -n apps`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name, ok := strings.Cut(args[0], "/")
			if len(args) == 2 {
				kind, name, ok = args[0], args[1], true
			}
			if !ok || kind == "" || name == "" {
				return fmt.Errorf("%q: want <kind>/<name>, e.g. deployment/web", args[0])
			}
			return trace(cmd.Context(), g, kind, name)
		},
	}
}

func trace(ctx context.Context, g *Globals, kind, name string) error {
	mapper, err := g.Kube.ToRESTMapper()
	if err != nil {
		return fmt.Errorf("no cluster to talk to: %w", err)
	}
	mapping, err := mappingFor(mapper, kind)
	if err != nil {
		return err
	}
	c, err := g.Client()
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(mapping.GroupVersionKind)
	key := client.ObjectKey{Name: name}
	if mapping.Scope.Name() == apimeta.RESTScopeNameNamespace {
		key.Namespace = g.Namespace()
	}
	if err := c.Get(ctx, key, u); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%s %q not found in namespace %q", mapping.GroupVersionKind.Kind, name, key.Namespace)
		}
		return apiError(err)
	}

	w := &traceWriter{out: g.Out}
	w.field(0, "Object", objects.Ref(u))
	w.field(1, "Status", health(u))
	managers := 0
	for depth := 0; depth < maxTraceDepth; depth++ {
		owner, err := managerOf(ctx, c, u)
		if err != nil {
			return err
		}
		if owner == nil {
			break
		}
		managers++
		w.blank()
		w.field(0, "Managed by", objects.Ref(owner))
		w.weirStatus(owner)
		if path, _, _ := unstructured.NestedString(owner.Object, "spec", "path"); path != "" {
			w.field(1, "Path", path)
		}
		w.sources(ctx, c, owner)
		u = owner
	}
	if managers == 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%s is not managed by Weir: it has neither %s labels nor Helm's %s annotation",
			objects.Ref(u), kustomizeNameLabel, helmReleaseNameAnno)}
	}
	return nil
}

// mappingFor resolves a kind as users type it (deployment, deploy, deployments.apps) to its mapping.
func mappingFor(mapper apimeta.RESTMapper, kind string) (*apimeta.RESTMapping, error) {
	var gvk schema.GroupVersionKind
	var err error
	if gvr, gr := schema.ParseResourceArg(strings.ToLower(kind)); gvr != nil {
		gvk, err = mapper.KindFor(*gvr)
		if err != nil {
			gvk, err = mapper.KindFor(gr.WithVersion(""))
		}
	} else {
		gvk, err = mapper.KindFor(gr.WithVersion(""))
	}
	if err != nil {
		return nil, fmt.Errorf("unknown kind %q: %w", kind, err)
	}
	return mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
}

// managerOf returns the Kustomization or HelmRelease that applied u, or nil when none did.
func managerOf(ctx context.Context, c client.Client, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	labels, annotations := u.GetLabels(), u.GetAnnotations()
	var k *objects.Kind
	var ns, name string
	switch {
	case labels[kustomizeNameLabel] != "":
		k, _ = objects.FindKind("Kustomization")
		ns, name = labels[kustomizeNamespaceLabel], labels[kustomizeNameLabel]
	case labels[helmv1.OwnerNameLabel] != "":
		k, _ = objects.FindKind("HelmRelease")
		ns, name = labels[helmv1.OwnerNamespaceLabel], labels[helmv1.OwnerNameLabel]
	case annotations[helmReleaseNameAnno] != "":
		return helmReleaseOf(ctx, c, annotations[helmReleaseNameAnno], annotations[helmReleaseNSAnno])
	default:
		return nil, nil
	}
	owner := k.New()
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, owner); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s is labelled as applied by %s %s/%s, which no longer exists", objects.Ref(u), k.Kind, ns, name)
		}
		return nil, apiError(err)
	}
	return owner, nil
}

// helmReleaseOf finds the HelmRelease whose newest release is release in namespace.
func helmReleaseOf(ctx context.Context, c client.Client, release, namespace string) (*unstructured.Unstructured, error) {
	k, _ := objects.FindKind("HelmRelease")
	list := k.NewList()
	if err := c.List(ctx, list); err != nil {
		return nil, apiError(err)
	}
	for i := range list.Items {
		hr := &list.Items[i]
		history, _, _ := unstructured.NestedSlice(hr.Object, "status", "history")
		if len(history) == 0 {
			continue
		}
		latest, _ := history[0].(map[string]any)
		n, _, _ := unstructured.NestedString(latest, "name")
		ns, _, _ := unstructured.NestedString(latest, "namespace")
		if n == release && ns == namespace {
			return hr, nil
		}
	}
	return nil, fmt.Errorf("the Helm release %s/%s is not managed by any HelmRelease", namespace, release)
}

// traceWriter prints trace's aligned fields.
type traceWriter struct{ out io.Writer }

func (w *traceWriter) field(indent int, name, value string) {
	label := strings.Repeat("  ", indent) + name + ":"
	fmt.Fprintf(w.out, "%-16s%s\n", label, value)
}

func (w *traceWriter) blank() { fmt.Fprintln(w.out) }

// weirStatus prints a Weir object's Ready condition, revision and suspension.
func (w *traceWriter) weirStatus(u *unstructured.Unstructured) {
	ready := "Unknown (no Ready condition)"
	if c := objects.ReadyCondition(u); c != nil {
		ready = fmt.Sprintf("%s (%s: %s)", c.Status, c.Reason, shorten(c.Message, 80))
	}
	w.field(1, "Ready", ready)
	if k := objects.KindByGVK(u.GroupVersionKind()); k != nil {
		if rev := k.Revision(u); rev != "" {
			w.field(1, "Revision", rev)
		}
	}
	if objects.IsSuspended(u) {
		w.field(1, "Suspended", "true")
	}
}

// sources prints the source of a Kustomization or HelmRelease, and a HelmChart's own source.
func (w *traceWriter) sources(ctx context.Context, c client.Client, owner *unstructured.Unstructured) {
	k, ns, name, err := objects.SourceOf(owner)
	for depth := 0; err == nil && k != nil && depth < 2; depth++ {
		src, getErr := getObject(ctx, c, k, ns, name)
		if getErr != nil {
			w.field(0, "Source", fmt.Sprintf("%s/%s/%s (%v)", k.Kind, ns, name, getErr))
			return
		}
		w.field(0, "Source", objects.Ref(src))
		if url, _, _ := unstructured.NestedString(src.Object, "spec", "url"); url != "" {
			w.field(1, "URL", url)
		}
		w.weirStatus(src)
		if src.GetKind() != "HelmChart" {
			return
		}
		kind, _, _ := unstructured.NestedString(src.Object, "spec", "sourceRef", "kind")
		name, _, _ = unstructured.NestedString(src.Object, "spec", "sourceRef", "name")
		ns = src.GetNamespace()
		k, err = objects.FindKind(kind)
	}
	if err != nil {
		w.field(0, "Source", err.Error())
	}
}
