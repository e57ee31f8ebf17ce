package ui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
	"weir.dev/pkg/dependency"
)

// maxDependents bounds the objects a page lists as depending on it.
const maxDependents = 100

// depsView is the dependency graph around one Kustomization or HelmRelease: what it waits for
// (spec.dependsOn) and what waits for it, across both kinds.
type depsView struct {
	DependsOn  []depEdge
	RequiredBy []depEdge
	// More is how many dependents are not listed (over maxDependents).
	More int
	// Related are the keys of every object listed, space-separated: the page refreshes when
	// one of them changes, as when this object changes.
	Related string
}

// depEdge is one edge, as seen from the page's object: the object at its other end, in which
// state, and whether the edge keeps its dependent waiting.
type depEdge struct {
	Kind, Namespace, Name string
	Path                  string
	State                 State
	// Ready is the other end's Ready condition: "Ready=True", "Ready=False InstallFailed".
	Ready     string
	ReadyExpr string
	// Blocking says why the dependency does not satisfy the dependent (by the controllers' own
	// rules), "" when it does.
	Blocking string
}

// dependencies builds u's dependency view; nil for a kind without spec.dependsOn.
func (s *Server) dependencies(ctx context.Context, u *unstructured.Unstructured) *depsView {
	if u.GetKind() != "Kustomization" && u.GetKind() != "HelmRelease" {
		return nil
	}
	v := &depsView{}
	related := []string{}
	for _, d := range dependency.DependsOn(u) {
		e := depEdge{Kind: d.Kind, Namespace: d.Namespace, Name: d.Name, ReadyExpr: d.ReadyExpr}
		k, err := objects.FindKind(d.Kind)
		if err != nil {
			e.Blocking = fmt.Sprintf("kind %q cannot be a dependency", d.Kind)
			v.DependsOn = append(v.DependsOn, e)
			continue
		}
		e.Path = "/objects/" + rowKey(k, d.Namespace, d.Name)
		related = append(related, rowKey(k, d.Namespace, d.Name))
		dep := k.New()
		if err := s.client.Get(ctx, client.ObjectKey{Namespace: d.Namespace, Name: d.Name}, dep); err != nil {
			e.Ready, e.Blocking = "NotFound", apiMessage("reading it", err)
			v.DependsOn = append(v.DependsOn, e)
			continue
		}
		dep.SetGroupVersionKind(k.GVK())
		e.State, e.Ready = rowOf(dep).State, readyState(dep)
		e.Blocking = objects.EdgeBlocks(ctx, d, dep, u)
		v.DependsOn = append(v.DependsOn, e)
	}
	for _, row := range s.store.snapshot() {
		for _, d := range row.DependsOn {
			if d.Kind != u.GetKind() || d.Namespace != u.GetNamespace() || d.Name != u.GetName() {
				continue
			}
			if len(v.RequiredBy) >= maxDependents {
				v.More++
				break
			}
			e := depEdge{Kind: row.Kind.Kind, Namespace: row.Namespace, Name: row.Name, Path: row.Path(), State: row.State, ReadyExpr: d.ReadyExpr}
			related = append(related, row.Key())
			e.Ready = "Ready=" + row.Ready
			if row.Ready == "" {
				e.Ready = "Ready=Unknown"
			} else if row.Ready != "True" {
				e.Ready += " " + row.Reason
			}
			dependent := &unstructured.Unstructured{Object: map[string]any{}}
			if d.ReadyExpr != "" {
				// The expression may read the dependent (self): read it whole.
				dependent = row.Kind.New()
				if err := s.client.Get(ctx, client.ObjectKey{Namespace: row.Namespace, Name: row.Name}, dependent); err != nil {
					e.Blocking = apiMessage("reading "+row.Name, err)
					v.RequiredBy = append(v.RequiredBy, e)
					break
				}
			}
			e.Blocking = objects.EdgeBlocks(ctx, d, u, dependent)
			v.RequiredBy = append(v.RequiredBy, e)
			break
		}
	}
	sort.SliceStable(v.RequiredBy, func(i, j int) bool {
		// The dependents this object blocks first.
		if bi, bj := v.RequiredBy[i].Blocking != "", v.RequiredBy[j].Blocking != ""; bi != bj {
			return bi
		}
		return v.RequiredBy[i].Path < v.RequiredBy[j].Path
	})
	v.Related = strings.Join(related, " ")
	return v
}

// readyState is "Ready=<status>", with Ready's reason when it is not True.
func readyState(u *unstructured.Unstructured) string {
	c := objects.ReadyCondition(u)
	switch {
	case c == nil:
		return "Ready=Unknown"
	case c.Status == "True":
		return "Ready=True"
	}
	return fmt.Sprintf("Ready=%s %s", c.Status, c.Reason)
}
