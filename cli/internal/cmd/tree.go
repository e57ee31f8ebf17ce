package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

func init() { register(newTreeCmd) }

// maxTreeDepth bounds how deep tree follows Kustomizations and HelmReleases inside inventories.
const maxTreeDepth = 10

func newTreeCmd(g *Globals) *cobra.Command {
	var deps bool
	var output string
	cmd := &cobra.Command{
		Use:   "tree kustomization|helmrelease|resourceset|artifactgenerator <name>",
		Short: "Show the objects a Kustomization, HelmRelease, ResourceSet or ArtifactGenerator manages, with their health",
		Long: "tree prints the inventory of a Kustomization, HelmRelease or ResourceSet as a tree, with each\n" +
			"object's health computed by kstatus from the live object. Kustomizations and HelmReleases found\n" +
			"in an inventory are expanded in turn, up to a depth of 10. For an ArtifactGenerator it prints the\n" +
			"ExternalArtifacts it generates, their revisions, and the Kustomizations and HelmReleases\n" +
			"that consume each.\n\n" +
			"With --deps it prints the dependency graph (spec.dependsOn) instead: each dependency with\n" +
			"its Ready state, the edges that block their dependent marked `◀ blocking:` with why, and\n" +
			"cycles named. Without a name it shows every Kustomization and HelmRelease of the namespace.\n\n" +
			"-o json or yaml prints the same tree as data: each node's kind, namespace, name, status and\n" +
			"children (with --deps: its Ready state, and why an edge blocks).",
		Example: `  # What the Kustomization apps applied, and whether it is healthy
  weir tree kustomization apps -n weir-system

  # The objects of a Helm release
  weir tree hr podinfo -n apps

  # What apps waits for, and which dependency blocks it
  weir tree ks apps --deps -n apps

  # The ExternalArtifacts an ArtifactGenerator splits a repository into, and their consumers
  weir tree artifactgenerator fleet -n weir-system`,
		Args: func(cmd *cobra.Command, args []string) error {
			if deps && len(args) == 0 {
				return nil
			}
			return cobra.ExactArgs(2)(cmd, args)
		},
		ValidArgsFunction: completeKindThenName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := g.Out
			switch output {
			case "":
			case "json", "yaml":
				out = io.Discard // the tree is printed as data at the end
			default:
				return fmt.Errorf("unknown output format %q: want json, yaml or nothing", output)
			}
			c, err := g.Client()
			if err != nil {
				return err
			}
			if deps && len(args) == 0 {
				roots, err := depsRoots(cmd.Context(), c, g.Namespace())
				if err != nil {
					return err
				}
				if len(roots) == 0 {
					fmt.Fprintf(out, "no Kustomizations or HelmReleases in namespace %s\n", g.Namespace())
				}
				p := &depsPrinter{c: c, out: out, shown: map[string]bool{}}
				nodes := []*treeNode{}
				for _, u := range roots {
					if !p.shown[objects.Ref(u)] {
						nodes = append(nodes, p.root(cmd.Context(), u))
					}
				}
				if output != "" {
					return printStructured(g.Out, output, nodes)
				}
				return nil
			}
			k, err := objects.FindKind(args[0])
			if err != nil {
				return err
			}
			if !hasInventory(k) && k.Kind != "ArtifactGenerator" {
				return fmt.Errorf("tree shows a Kustomization, a HelmRelease, a ResourceSet or an ArtifactGenerator, not a %s", k.Kind)
			}
			root, err := getObject(cmd.Context(), c, k, g.Namespace(), args[1])
			if err != nil {
				return err
			}
			if deps {
				p := &depsPrinter{c: c, out: out, shown: map[string]bool{}}
				n := p.root(cmd.Context(), root)
				if output != "" {
					return printStructured(g.Out, output, n)
				}
				return nil
			}
			if k.Kind == "ArtifactGenerator" {
				if output != "" {
					return fmt.Errorf("-o %s: the tree of an ArtifactGenerator prints as text only", output)
				}
				return generatorTree(cmd.Context(), c, g.Out, root)
			}
			t := &treePrinter{c: c, out: out, seen: map[string]bool{}}
			fmt.Fprintf(out, "%s %s\n", objects.Ref(root), health(root))
			printProgress(out, root)
			n := &treeNode{Kind: root.GetKind(), Namespace: root.GetNamespace(), Name: root.GetName()}
			n.setHealth(root)
			n.Progress = progressOf(root)
			if n.Children, err = t.children(cmd.Context(), root, "", 1); err != nil {
				return err
			}
			if output != "" {
				n.Hooks, _, _ = unstructured.NestedSlice(root.Object, "status", "hooks")
				return printStructured(g.Out, output, n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&deps, "deps", false, "show the dependency graph (spec.dependsOn), marking the blocking edges")
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: empty for a tree, json or yaml")
	return cmd
}

// treePrinter prints inventories, guarding against cycles with seen.
type treePrinter struct {
	c    client.Client
	out  io.Writer
	seen map[string]bool
}

// children prints the inventory of owner, indented by prefix, and recurses into the
// Kustomizations and HelmReleases it holds; it returns what it printed as nodes.
func (t *treePrinter) children(ctx context.Context, owner *unstructured.Unstructured, prefix string, depth int) ([]*treeNode, error) {
	t.seen[objects.Ref(owner)] = true
	entries, _, _ := unstructured.NestedSlice(owner.Object, "status", "inventory", "entries")
	if depth == 1 {
		// The root's hooks come last, after its inventory.
		defer t.hooks(owner, prefix)
	}
	var nodes []*treeNode
	for i, e := range entries {
		entry, _ := e.(map[string]any)
		id, _, _ := unstructured.NestedString(entry, "id")
		version, _, _ := unstructured.NestedString(entry, "v")
		branch, indent := "├── ", "│   "
		if i == len(entries)-1 {
			branch, indent = "└── ", "    "
		}
		ns, name, gk, err := objects.ParseInventoryID(id)
		if err != nil {
			fmt.Fprintf(t.out, "%s%s%s\n", prefix, branch, err)
			nodes = append(nodes, &treeNode{Name: id, Status: "Unknown", Message: err.Error()})
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gk.WithVersion(version))
		ref := inventoryRef(ns, name, gk.Kind)
		n := &treeNode{Kind: gk.Kind, Namespace: ns, Name: name}
		nodes = append(nodes, n)
		err = t.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)
		switch {
		case apierrors.IsNotFound(err):
			fmt.Fprintf(t.out, "%s%s%s NotFound\n", prefix, branch, ref)
			n.Status = "NotFound"
			continue
		case apimeta.IsNoMatchError(err):
			fmt.Fprintf(t.out, "%s%s%s NotFound: the cluster does not serve %s\n", prefix, branch, ref, gk.WithVersion(version))
			n.Status, n.Message = "NotFound", "the cluster does not serve "+gk.WithVersion(version).String()
			continue
		case err != nil:
			fmt.Fprintf(t.out, "%s%s%s Unknown: %v\n", prefix, branch, ref, err)
			n.Status, n.Message = "Unknown", err.Error()
			continue
		}
		n.setHealth(u)
		nested := objects.KindByGVK(u.GroupVersionKind())
		expandable := nested != nil && hasInventory(nested)
		switch {
		case expandable && t.seen[objects.Ref(u)]:
			fmt.Fprintf(t.out, "%s%s%s %s (already shown above)\n", prefix, branch, ref, health(u))
			n.Note = "already shown above"
		case expandable && depth >= maxTreeDepth:
			fmt.Fprintf(t.out, "%s%s%s %s (not expanded: deeper than %d)\n", prefix, branch, ref, health(u), maxTreeDepth)
			n.Note = fmt.Sprintf("not expanded: deeper than %d", maxTreeDepth)
		default:
			fmt.Fprintf(t.out, "%s%s%s %s%s\n", prefix, branch, ref, health(u), waveNote(u))
			if expandable {
				if n.Children, err = t.children(ctx, u, prefix+indent, depth+1); err != nil {
					return nil, err
				}
			}
		}
	}
	return nodes, nil
}

// health is the kstatus status of the live object, with its message when it is not Current.
func health(u *unstructured.Unstructured) string {
	st, msg := objects.Health(u)
	if st == status.CurrentStatus || msg == "" {
		return st.String()
	}
	return st.String() + ": " + objects.Shorten(msg, 80)
}

// waveAnnotation puts an applied object in a wave (kustomize-controller's WaveAnnotation).
const waveAnnotation = "kustomize.weir.dev/wave"

// waveNote is " (wave N)" for an object in a wave, "" for the rest.
func waveNote(u *unstructured.Unstructured) string {
	if w, ok := u.GetAnnotations()[waveAnnotation]; ok {
		return " (wave " + strings.TrimSpace(w) + ")"
	}
	return ""
}

// printProgress prints, under a Kustomization that is reconciling, what it is doing in full:
// the wave or the hook it waits for ("wave 2 of 4: waiting for Deployment/app/api").
func printProgress(out io.Writer, u *unstructured.Unstructured) {
	c := apimeta.FindStatusCondition(objects.Conditions(u), meta.ReconcilingCondition)
	if c == nil || c.Status != metav1.ConditionTrue {
		return
	}
	fmt.Fprintf(out, "  in progress: %s\n", objects.Shorten(c.Message, 200))
}

// hooks prints the hooks in owner's status.hooks (Kustomizations' kustomize.weir.dev/hook
// objects, which are not in the inventory), with their point and last run.
func (t *treePrinter) hooks(owner *unstructured.Unstructured, prefix string) {
	hooks, _, _ := unstructured.NestedSlice(owner.Object, "status", "hooks")
	for _, h := range hooks {
		entry, _ := h.(map[string]any)
		id, _, _ := unstructured.NestedString(entry, "id")
		point, _, _ := unstructured.NestedString(entry, "point")
		phase, _, _ := unstructured.NestedString(entry, "phase")
		revision, _, _ := unstructured.NestedString(entry, "revision")
		msg, _, _ := unstructured.NestedString(entry, "message")
		ref := id
		if ns, name, gk, err := objects.ParseInventoryID(id); err == nil {
			ref = inventoryRef(ns, name, gk.Kind)
		}
		line := fmt.Sprintf("%shook %s %s %s", prefix, point, ref, phase)
		if revision != "" {
			line += " at " + revision
		}
		if msg != "" {
			line += ": " + objects.Shorten(msg, 80)
		}
		fmt.Fprintln(t.out, line)
	}
}

// inventoryRef is Kind/namespace/name, or Kind/name for a cluster-scoped object.
func inventoryRef(ns, name, kind string) string {
	if ns == "" {
		return kind + "/" + name
	}
	return kind + "/" + ns + "/" + name
}

// hasInventory reports whether objects of kind k list what they manage in status.inventory.
func hasInventory(k *objects.Kind) bool {
	return k.Kind == "Kustomization" || k.Kind == "HelmRelease" || k.Kind == "ResourceSet"
}
