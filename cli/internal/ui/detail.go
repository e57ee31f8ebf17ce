package ui

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
	"weir.dev/pkg/gitweb"
)

const (
	// inventoryShown bounds the top-level inventory entries a page shows; a filter finds the rest.
	inventoryShown = 200
	// inventoryNodes bounds the nodes of the whole tree, nested inventories included.
	inventoryNodes = 500
	// inventoryDepth bounds how deep nested Kustomizations and HelmReleases expand.
	inventoryDepth = 4
	// detailEvents bounds the events timeline.
	detailEvents = 50
	// fetchers is how many requests for inventory objects run at once.
	fetchers = 16
	// listFrom is how many objects of one kind in one namespace are read with a list rather
	// than one by one.
	listFrom = 8
)

type detailData struct {
	Kind       string
	Row        *Row
	Conditions []metav1.Condition
	Facts      [][2]string
	Actions    []Action
	// Upstream is the source chain, nearest source last; Dependents use this object as source.
	Upstream   []chainNode
	Dependents []*Row
	Events     []eventRow
	EventsErr  string
	History    *table
	Drift      *table
	Inventory  *inventoryTree
	// Progress is what a reconciling object is doing (Reconciling's message), e.g. the wave or
	// hook a Kustomization waits for; Hooks are a Kustomization's status.hooks.
	Progress string
	Hooks    *table
	// Plan is status.plan of a Kustomization or HelmRelease under spec.approval: Manual.
	Plan *planView
	// Deps is a Kustomization's or HelmRelease's dependency graph around it.
	Deps *depsView
}

// chainNode is one object of the source chain.
type chainNode struct {
	Kind, Namespace, Name string
	Path                  string
	State                 State
	Revision              string
	CommitURL             string
	Message               string
	// Err says why the node could not be read.
	Err string
}

// table is a small table of strings, for history and drift.
type table struct {
	Header []string
	Rows   [][]string
}

func (s *Server) detail(w http.ResponseWriter, r *http.Request) {
	k, err := objects.FindKind(r.PathValue("kind"))
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "Unknown kind", err.Error())
		return
	}
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	ctx := r.Context()
	u := k.New()
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		title := fmt.Sprintf("%s %s/%s", k.Kind, ns, name)
		s.fail(w, r, statusOf(err), title, apiMessage("reading "+title, err))
		return
	}
	row := rowOf(u)
	d := &detailData{Kind: k.Kind, Row: row, Conditions: objects.Conditions(u), Facts: facts(u)}
	d.Actions = s.actionsFor(ctx, k, u)
	d.Upstream = s.upstream(ctx, u)
	for _, other := range s.store.snapshot() {
		if other.Source == row.Key() {
			d.Dependents = append(d.Dependents, other)
		}
	}
	d.Events, d.EventsErr = s.objectEvents(ctx, k, u)
	d.History = history(u)
	d.Drift = drift(u)
	d.Progress, d.Hooks = progress(d.Conditions), hooks(u)
	d.Plan = planOf(u)
	d.Deps = s.dependencies(ctx, u)
	if objects.Expandable(u.GroupVersionKind()) {
		d.Inventory = s.inventory(ctx, u, r.URL.Query().Get("inv"))
	}
	v := s.newView(fmt.Sprintf("%s %s/%s", k.Kind, ns, name), d)
	v.Object = row.Key()
	s.render(w, r, http.StatusOK, "detail", v)
}

// facts are the spec fields worth seeing at a glance: scalars and flat maps (a Git ref), never
// nested structures.
func facts(u *unstructured.Unstructured) [][2]string {
	var out [][2]string
	add := func(label string, path ...string) {
		v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
		if !ok || v == nil {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			var parts []string
			for key, val := range v {
				switch val.(type) {
				case map[string]any, []any:
					return
				}
				parts = append(parts, fmt.Sprintf("%s=%v", key, val))
			}
			sort.Strings(parts)
			out = append(out, [2]string{label, strings.Join(parts, " ")})
		case []any:
		default:
			out = append(out, [2]string{label, fmt.Sprint(v)})
		}
	}
	add("URL", "spec", "url")
	add("Ref", "spec", "ref")
	add("Chart", "spec", "chart")                  // a HelmChart's
	add("Chart", "spec", "chart", "spec", "chart") // a HelmRelease's template
	add("Chart version", "spec", "chart", "spec", "version")
	add("Version", "spec", "version")
	add("Release name", "spec", "releaseName")
	add("Path", "spec", "path")
	add("Target namespace", "spec", "targetNamespace")
	add("Interval", "spec", "interval")
	add("Prune", "spec", "prune")
	add("Last handled request", "status", "lastHandledReconcileAt")
	return out
}

// upstream follows the source chain up from u: for a HelmRelease its HelmChart and that
// chart's source, for a Kustomization or HelmChart its source.
func (s *Server) upstream(ctx context.Context, u *unstructured.Unstructured) []chainNode {
	var chain []chainNode
	cur := u
	for range 3 {
		k := objects.KindByGVK(cur.GroupVersionKind())
		if k == nil || !objects.HasSource(k) {
			break
		}
		sk, sns, sname, err := objects.SourceOf(cur)
		if err != nil {
			chain = append([]chainNode{{Kind: "source", Err: err.Error()}}, chain...)
			break
		}
		n := chainNode{Kind: sk.Kind, Namespace: sns, Name: sname, Path: "/objects/" + rowKey(sk, sns, sname)}
		src := sk.New()
		if err := s.client.Get(ctx, client.ObjectKey{Namespace: sns, Name: sname}, src); err != nil {
			n.Err = apiMessage("reading it", err)
			chain = append([]chainNode{n}, chain...)
			break
		}
		row := rowOf(src)
		n.State, n.Revision, n.Message = row.State, row.Revision, row.Message
		if sk.Kind == "GitRepository" {
			repo, _, _ := unstructured.NestedString(src.Object, "spec", "url")
			n.CommitURL = commitURL(repo, n.Revision)
		}
		chain = append([]chainNode{n}, chain...)
		cur = src
	}
	return chain
}

// commitURL links a Git revision to its commit's web page, when the repository's host is one
// whose layout is known; "" otherwise.
func commitURL(repo, revision string) string {
	sha, ok := gitweb.Commit(revision)
	if !ok {
		return ""
	}
	return gitweb.CommitURL(repo, sha)
}

// objectEvents lists the events about u, newest first.
func (s *Server) objectEvents(ctx context.Context, k *objects.Kind, u *unstructured.Unstructured) ([]eventRow, string) {
	var list corev1.EventList
	sel := fields.Set{"involvedObject.kind": k.Kind, "involvedObject.name": u.GetName(), "involvedObject.namespace": u.GetNamespace()}
	if err := s.client.List(ctx, &list, client.InNamespace(u.GetNamespace()), client.MatchingFieldsSelector{Selector: sel.AsSelector()}); err != nil {
		return nil, apiMessage("listing the events of "+u.GetName(), err)
	}
	rows := make([]eventRow, 0, len(list.Items))
	for _, ev := range list.Items {
		rows = append(rows, eventRowOf(ev))
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Time.After(rows[j].Time) })
	if len(rows) > detailEvents {
		rows = rows[:detailEvents]
	}
	return rows, ""
}

// history is status.history as a table: Kustomizations' reconcile snapshots or HelmReleases'
// releases, newest first.
func history(u *unstructured.Unstructured) *table {
	h, _, _ := unstructured.NestedSlice(u.Object, "status", "history")
	if len(h) == 0 {
		return nil
	}
	t := &table{}
	var fieldsOf []string
	switch u.GetKind() {
	case "HelmRelease":
		t.Header = []string{"Release", "Chart", "Status", "First deployed", "Last deployed"}
		fieldsOf = []string{"version", "chart", "status", "firstDeployed", "lastDeployed"}
	default:
		t.Header = []string{"Revision", "Status", "Runs", "Last duration", "First", "Last"}
		fieldsOf = []string{"revision", "lastReconciledStatus", "totalReconciliations", "lastReconciledDuration", "firstReconciled", "lastReconciled"}
	}
	for _, e := range h {
		entry, _ := e.(map[string]any)
		row := make([]string, len(fieldsOf))
		for i, f := range fieldsOf {
			switch f {
			case "revision":
				row[i], _, _ = unstructured.NestedString(entry, "metadata", "revision")
				if row[i] == "" {
					d, _, _ := unstructured.NestedString(entry, "digest")
					row[i] = objects.Shorten(d, 24)
				}
			case "chart":
				name, _, _ := unstructured.NestedString(entry, "chartName")
				version, _, _ := unstructured.NestedString(entry, "chartVersion")
				row[i] = name + " " + version
			default:
				row[i] = when(fmt.Sprint(entry[f]))
				if entry[f] == nil {
					row[i] = ""
				}
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// when shows an RFC 3339 time as its age, anything else as it is.
func when(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return ago(t) + " ago"
	}
	return s
}

// drift is a Kustomization's status.drift: objects changed in the cluster since applied.
func drift(u *unstructured.Unstructured) *table {
	d, _, _ := unstructured.NestedSlice(u.Object, "status", "drift")
	if len(d) == 0 {
		return nil
	}
	t := &table{Header: []string{"Object", "Fields", "Changed by", "Detected"}}
	for _, e := range d {
		entry, _ := e.(map[string]any)
		id, _, _ := unstructured.NestedString(entry, "id")
		ref := id
		if ns, name, gk, err := objects.ParseInventoryID(id); err == nil {
			ref = gk.Kind + "/" + strings.TrimPrefix(ns+"/"+name, "/")
		}
		fs, _, _ := unstructured.NestedStringSlice(entry, "fields")
		manager, _, _ := unstructured.NestedString(entry, "manager")
		at, _, _ := unstructured.NestedString(entry, "detectedAt")
		t.Rows = append(t.Rows, []string{ref, strings.Join(fs, ", "), manager, when(at)})
	}
	return t
}

// inventoryTree is an inventory with every shown object's health.
type inventoryTree struct {
	Total   int
	Matched int
	Filter  string
	Nodes   []*invNode
	// Capped says the tree shows fewer nodes than it holds.
	Capped bool
}

// invNode is one managed object.
type invNode struct {
	ID        string
	Kind      string
	Namespace string
	Name      string
	// Health is the kstatus status, or NotFound, Forbidden, Unknown or NotRead.
	Health   string
	Message  string
	Path     string
	Children []*invNode
	Note     string

	obj *unstructured.Unstructured
}

// readOne reads n's object and sets its health.
func (s *Server) readOne(ctx context.Context, gvk schema.GroupVersionKind, n *invNode) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	n.setHealth(u, gvk, s.client.Get(ctx, client.ObjectKey{Namespace: n.Namespace, Name: n.Name}, u))
}

// readListed lists the objects of gvk in namespace and sets the health of members from it. It
// returns false, having set nothing, when the user may not list them.
func (s *Server) readListed(ctx context.Context, gvk schema.GroupVersionKind, namespace string, members []*invNode) bool {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	err := s.client.List(ctx, list, client.InNamespace(namespace))
	if apierrors.IsForbidden(err) {
		return false
	}
	byName := map[string]*unstructured.Unstructured{}
	if err == nil {
		for i := range list.Items {
			byName[list.Items[i].GetName()] = &list.Items[i]
		}
	}
	for _, n := range members {
		u, found := byName[n.Name]
		switch {
		case err != nil:
			n.setHealth(nil, gvk, err)
		case !found:
			n.setHealth(nil, gvk, apierrors.NewNotFound(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, n.Name))
		default:
			u.SetGroupVersionKind(gvk)
			n.setHealth(u, gvk, nil)
		}
	}
	return true
}

// setHealth sets n's health from reading its object u, which failed with err.
func (n *invNode) setHealth(u *unstructured.Unstructured, gvk schema.GroupVersionKind, err error) {
	switch {
	case apierrors.IsNotFound(err):
		n.Health, n.Message = "NotFound", "not in the cluster"
	case apierrors.IsForbidden(err):
		n.Health, n.Message = "Forbidden", "your Kubernetes user may not read it"
	case apimeta.IsNoMatchError(err):
		n.Health, n.Message = "NotFound", "the cluster does not serve "+gvk.String()
	case err != nil:
		n.Health, n.Message = "Unknown", err.Error()
	default:
		st, msg := objects.Health(u)
		n.Health, n.Message, n.obj = st.String(), msg, u
		if w, ok := u.GetAnnotations()[waveAnnotation]; ok {
			n.Note = "wave " + strings.TrimSpace(w)
		}
	}
}

// budget counts the nodes a tree may still add.
type budget struct{ left int }

func (s *Server) inventory(ctx context.Context, owner *unstructured.Unstructured, filter string) *inventoryTree {
	entries := objects.Inventory(owner)
	t := &inventoryTree{Total: len(entries), Filter: filter}
	needle := strings.ToLower(filter)
	var shown []objects.InventoryEntry
	for _, e := range entries {
		if needle != "" && !strings.Contains(strings.ToLower(e.ID), needle) {
			continue
		}
		t.Matched++
		if len(shown) < inventoryShown {
			shown = append(shown, e)
		}
	}
	b := &budget{left: inventoryNodes}
	t.Nodes = s.invNodes(ctx, shown, map[string]bool{objects.Ref(owner): true}, 1, b)
	t.Capped = len(shown) < t.Matched || b.left <= 0
	return t
}

// invNodes reads the objects of entries and expands the Kustomizations and HelmReleases
// among them. Objects of one kind in one namespace are read with one list when there are at
// least listFrom of them, else one by one; at most fetchers requests run at once.
func (s *Server) invNodes(ctx context.Context, entries []objects.InventoryEntry, seen map[string]bool, depth int, b *budget) []*invNode {
	if len(entries) > b.left {
		entries = entries[:max(b.left, 0)]
	}
	b.left -= len(entries)
	nodes := make([]*invNode, len(entries))
	type group struct {
		gvk       schema.GroupVersionKind
		namespace string
	}
	groups := map[group][]*invNode{}
	var order []group
	for i, e := range entries {
		n := &invNode{ID: e.ID}
		nodes[i] = n
		ns, name, gk, err := objects.ParseInventoryID(e.ID)
		if err != nil {
			n.Kind, n.Health, n.Message = "?", "Unknown", err.Error()
			continue
		}
		n.Kind, n.Namespace, n.Name = gk.Kind, ns, name
		if gk.Group == "" && gk.Kind == "Secret" {
			// The UI never reads Secrets, not even their metadata.
			n.Health, n.Message = "NotRead", "Secrets are not read by the UI"
			continue
		}
		g := group{gvk: gk.WithVersion(e.Version), namespace: ns}
		if k := objects.KindByGVK(g.gvk); k != nil {
			n.Path = "/objects/" + rowKey(k, ns, name)
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], n)
	}
	sem := make(chan struct{}, fetchers)
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f()
		}()
	}
	for _, g := range order {
		members := groups[g]
		if len(members) < listFrom {
			for _, n := range members {
				run(func() { s.readOne(ctx, g.gvk, n) })
			}
			continue
		}
		run(func() {
			if s.readListed(ctx, g.gvk, g.namespace, members) {
				return
			}
			for _, n := range members { // the list is forbidden: try each
				s.readOne(ctx, g.gvk, n)
			}
		})
	}
	wg.Wait()
	for _, n := range nodes {
		if n.obj == nil || !objects.Expandable(n.obj.GroupVersionKind()) {
			continue
		}
		ref := objects.Ref(n.obj)
		switch {
		case seen[ref]:
			n.Note = "already shown above"
		case depth >= inventoryDepth:
			n.Note = fmt.Sprintf("not expanded: deeper than %d; open it to see its objects", inventoryDepth)
		case b.left <= 0:
			n.Note = "not expanded: the tree is at its size limit; open it to see its objects"
		default:
			seen[ref] = true
			n.Children = s.invNodes(ctx, objects.Inventory(n.obj), seen, depth+1, b)
		}
		n.obj = nil
	}
	return nodes
}
