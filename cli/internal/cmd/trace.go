package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
)

func init() { register(newTraceCmd) }

// Ownership marks of the objects Weir applies.

// maxTraceDepth bounds the chain of Kustomizations applying Kustomizations that trace follows.
const maxTraceDepth = 10

func newTraceCmd(g *Globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "trace <kind>/<name>",
		Short: "Show which Kustomization or HelmRelease manages an object, from which source",
		Long: "trace finds the Kustomization or HelmRelease that applied an object (from its ownership\n" +
			"labels and Helm's annotations), then the one that applied that, and so on, with each one's\n" +
			"source, revision and Ready status. Any kind kubectl knows works, by name or short name.",
		Example: `  # Where does this Deployment come from?
  weir trace deployment/web -n apps

  # Short names and kind.group work too
  weir trace svc/podinfo -n apps
  weir trace ingresses.networking.k8s.io/web -n apps

  # As data: the object, then each manager and source, with their fields
  weir trace deployment/web -n apps -o json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name, ok := strings.Cut(args[0], "/")
			if len(args) == 2 {
				kind, name, ok = args[0], args[1], true
			}
			if !ok || kind == "" || name == "" {
				return fmt.Errorf("%q: want <kind>/<name>, e.g. deployment/web", args[0])
			}
			switch output {
			case "", "json", "yaml":
			default:
				return fmt.Errorf("unknown output format %q: want json, yaml or nothing", output)
			}
			return trace(cmd.Context(), g, kind, name, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: empty for text, json or yaml")
	return cmd
}

func trace(ctx context.Context, g *Globals, kind, name, output string) (err error) {
	mapper, err := g.Kube.ToRESTMapper()
	if err != nil {
		return fmt.Errorf("no cluster to talk to: %w", err)
	}
	mapping, err := objects.MappingFor(mapper, kind)
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
	if output != "" {
		w.out = io.Discard
		defer func() {
			if err == nil || len(w.sections) > 1 {
				err = errors.Join(err, printStructured(g.Out, output, w.sections))
			}
		}()
	}
	w.field(0, "Object", objects.Ref(u))
	w.field(1, "Status", health(u))
	managers := 0
	for depth := 0; depth < maxTraceDepth; depth++ {
		owner, err := objects.ManagerOf(ctx, c, u)
		if err != nil {
			return apiError(err)
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
		return &ExitError{Code: 1, Err: objects.NotManaged(u)}
	}
	return nil
}

// traceWriter prints trace's aligned fields, and keeps them as sections for -o json|yaml:
// one per object (the traced one, each manager, each source), with its role ("object",
// "managedBy", "source"), its ref, and its fields by lower-camel-case name.
type traceWriter struct {
	out      io.Writer
	sections []map[string]string
}

func (w *traceWriter) field(indent int, name, value string) {
	label := strings.Repeat("  ", indent) + name + ":"
	fmt.Fprintf(w.out, "%-16s%s\n", label, value)
	if indent == 0 || len(w.sections) == 0 {
		w.sections = append(w.sections, map[string]string{"role": lowerCamel(name), "ref": value})
		return
	}
	w.sections[len(w.sections)-1][lowerCamel(name)] = value
}

// lowerCamel turns a field's label into a key: "Managed by" is managedBy.
func lowerCamel(label string) string {
	words := strings.Fields(label)
	for i, w := range words {
		if i == 0 {
			words[i] = strings.ToLower(w)
		} else {
			words[i] = strings.ToUpper(w[:1]) + strings.ToLower(w[1:])
		}
	}
	return strings.Join(words, "")
}

func (w *traceWriter) blank() { fmt.Fprintln(w.out) }

// weirStatus prints a Weir object's Ready condition, revision and suspension.
func (w *traceWriter) weirStatus(u *unstructured.Unstructured) {
	ready := "Unknown (no Ready condition)"
	if c := objects.ReadyCondition(u); c != nil {
		ready = fmt.Sprintf("%s (%s: %s)", c.Status, c.Reason, objects.Shorten(c.Message, 80))
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
