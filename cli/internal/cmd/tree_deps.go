package cmd

import (
	"context"
	"fmt"
	"io"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
	"weir.dev/pkg/dependency"
)

// depsPrinter prints dependency graphs (spec.dependsOn of Kustomizations and HelmReleases):
// each object with its Ready state, each edge that blocks its dependent marked with why.
type depsPrinter struct {
	c   client.Client
	out io.Writer
	// shown are the objects whose dependencies were already printed.
	shown map[string]bool
}

// depsRoots returns the Kustomizations and HelmReleases of namespace, sorted, those that
// nothing there depends on first: printed in this order, every object appears (objects only
// in cycles as roots of their own).
func depsRoots(ctx context.Context, c client.Client, namespace string) ([]*unstructured.Unstructured, error) {
	var all []*unstructured.Unstructured
	for _, kind := range []string{"Kustomization", "HelmRelease"} {
		k, err := objects.FindKind(kind)
		if err != nil {
			return nil, err
		}
		list := k.NewList()
		if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
			return nil, apiError(err)
		}
		for i := range list.Items {
			u := &list.Items[i]
			u.SetGroupVersionKind(k.GVK())
			all = append(all, u)
		}
	}
	dependedOn := map[string]bool{}
	for _, u := range all {
		for _, d := range dependency.DependsOn(u) {
			dependedOn[d.Kind+"/"+d.Namespace+"/"+d.Name] = true
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if di, dj := dependedOn[objects.Ref(all[i])], dependedOn[objects.Ref(all[j])]; di != dj {
			return dj
		}
		return objects.Ref(all[i]) < objects.Ref(all[j])
	})
	return all, nil
}

// root prints u and, below it, what it depends on; it returns what it printed as a node.
func (p *depsPrinter) root(ctx context.Context, u *unstructured.Unstructured) *treeNode {
	fmt.Fprintf(p.out, "%s %s\n", objects.Ref(u), readyState(u))
	n := &treeNode{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Ready: readyState(u)}
	n.Children = p.dependencies(ctx, u, "", map[string]bool{objects.Ref(u): true}, 1)
	return n
}

// dependencies prints the dependencies of u, indented by prefix; path holds the objects from
// the root to u, to name cycles instead of following them. It returns them as nodes.
func (p *depsPrinter) dependencies(ctx context.Context, u *unstructured.Unstructured, prefix string, path map[string]bool, depth int) []*treeNode {
	p.shown[objects.Ref(u)] = true
	deps := dependency.DependsOn(u)
	var nodes []*treeNode
	for i, d := range deps {
		branch, indent := "├── ", "│   "
		if i == len(deps)-1 {
			branch, indent = "└── ", "    "
		}
		ref := d.Kind + "/" + d.Namespace + "/" + d.Name
		n := &treeNode{Kind: d.Kind, Namespace: d.Namespace, Name: d.Name, ReadyExpr: d.ReadyExpr}
		nodes = append(nodes, n)
		dep, err := p.get(ctx, d)
		if err != nil {
			fmt.Fprintf(p.out, "%s%s%s %s ◀ blocking: %s\n", prefix, branch, ref, "NotFound", err)
			n.Ready, n.Blocking = "NotFound", err.Error()
			continue
		}
		n.Ready = readyState(dep)
		line := fmt.Sprintf("%s%s%s %s", prefix, branch, ref, readyState(dep))
		if why := edgeBlocks(ctx, d, dep, u); why != "" {
			line += " ◀ blocking: " + objects.Shorten(why, 160)
			n.Blocking = why
		}
		switch {
		case path[ref]:
			fmt.Fprintf(p.out, "%s (cycle: depends on itself)\n", line)
			n.Note = "cycle: depends on itself"
		case p.shown[ref] && len(dependency.DependsOn(dep)) > 0:
			fmt.Fprintf(p.out, "%s (dependencies shown above)\n", line)
			n.Note = "dependencies shown above"
		case p.shown[ref]:
			fmt.Fprintln(p.out, line)
		case depth >= maxTreeDepth:
			fmt.Fprintf(p.out, "%s (not expanded: deeper than %d)\n", line, maxTreeDepth)
			n.Note = fmt.Sprintf("not expanded: deeper than %d", maxTreeDepth)
		default:
			fmt.Fprintln(p.out, line)
			path[ref] = true
			n.Children = p.dependencies(ctx, dep, prefix+indent, path, depth+1)
			delete(path, ref)
		}
	}
	return nodes
}

// get reads the dependency d; the error says why it cannot be shown.
func (p *depsPrinter) get(ctx context.Context, d dependency.Ref) (*unstructured.Unstructured, error) {
	k, err := objects.FindKind(d.Kind)
	if err != nil {
		return nil, fmt.Errorf("kind %q cannot be a dependency", d.Kind)
	}
	u := k.New()
	if err := p.c.Get(ctx, client.ObjectKey{Namespace: d.Namespace, Name: d.Name}, u); err != nil {
		return nil, apiError(err)
	}
	u.SetGroupVersionKind(k.GVK())
	return u, nil
}

// edgeBlocks says why dep does not satisfy its dependent's entry d, or "" when it does.
func edgeBlocks(ctx context.Context, d dependency.Ref, dep, dependent *unstructured.Unstructured) string {
	return objects.EdgeBlocks(ctx, d, dep, dependent)
}

// readyState is "Ready=<status>" with Ready's reason when it is not True.
func readyState(u *unstructured.Unstructured) string {
	c := objects.ReadyCondition(u)
	switch {
	case c == nil:
		return "Ready=Unknown (no Ready condition yet)"
	case c.Status == "True":
		return "Ready=True"
	}
	return fmt.Sprintf("Ready=%s %s", c.Status, c.Reason)
}
