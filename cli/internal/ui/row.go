package ui

import (
	"sort"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
	"weir.dev/pkg/dependency"
)

// State is what the UI says of an object at a glance.
type State string

const (
	// Failing: Ready=False, and the controller has stopped trying for now.
	Failing = State(objects.StateFailing)
	// Progressing: not decided yet for the object's generation.
	Progressing = State(objects.StateProgressing)
	// Suspended: spec.suspend is set; the controller leaves it alone.
	Suspended = State(objects.StateSuspended)
	// Ready: Ready=True.
	Ready = State(objects.StateReady)
)

// States are the states in the order lists show them: what needs attention first.
var States = []State{Failing, Progressing, Suspended, Ready}

// rank orders states for sorting.
func (s State) rank() int {
	for i, st := range States {
		if st == s {
			return i
		}
	}
	return len(States)
}

// Row is the summary of one Weir object that lists and the overview show.
type Row struct {
	Kind      *objects.Kind
	Namespace string
	Name      string
	State     State
	// Ready is the Ready condition's status, "" without one.
	Ready   string
	Reason  string
	Message string
	// Revision is the revision last applied or fetched.
	Revision string
	// Changed is when the object was last applied: the newest history entry's time (a
	// Kustomization's last reconcile, a HelmRelease's last deploy), a source's artifact's
	// update, or else the Ready condition's last transition.
	Changed time.Time
	// Since is when the Ready condition last changed.
	Since     time.Time
	Suspended bool
	// Source is the key of the object's source, "" for none.
	Source string
	// DependsOn is a Kustomization's or HelmRelease's spec.dependsOn, defaulted.
	DependsOn []dependency.Ref
}

// Key identifies the row: `<kind>/<namespace>/<name>`, lower-case kind, as in the UI's URLs.
func (r *Row) Key() string { return rowKey(r.Kind, r.Namespace, r.Name) }

// Path is the row's detail page.
func (r *Row) Path() string { return "/objects/" + r.Key() }

func rowKey(k *objects.Kind, namespace, name string) string {
	return strings.ToLower(k.Kind) + "/" + namespace + "/" + name
}

// rowOf summarises u; nil when u is not a Weir object.
func rowOf(u *unstructured.Unstructured) *Row {
	k := objects.KindByGVK(u.GroupVersionKind())
	if k == nil {
		return nil
	}
	r := &Row{Kind: k, Namespace: u.GetNamespace(), Name: u.GetName(), Revision: k.Revision(u), Suspended: objects.IsSuspended(u)}
	cs := objects.Conditions(u)
	if c := apimeta.FindStatusCondition(cs, meta.ReadyCondition); c != nil {
		r.Ready, r.Reason, r.Message = string(c.Status), c.Reason, c.Message
		r.Since, r.Changed = c.LastTransitionTime.Time, c.LastTransitionTime.Time
	}
	if t := appliedTime(u); !t.IsZero() {
		r.Changed = t
	}
	r.State = stateOf(u, cs)
	r.DependsOn = dependency.DependsOn(u)
	if objects.HasSource(k) {
		if sk, ns, name, err := objects.SourceOf(u); err == nil {
			r.Source = rowKey(sk, ns, name)
		}
	}
	return r
}

// stateOf decides an object's state from its conditions and generation, as every Weir tool does.
func stateOf(u *unstructured.Unstructured, _ []metav1.Condition) State {
	return State(objects.StateOf(u))
}

// appliedTime is when the newest status.history entry last reconciled or deployed, or when a
// source's artifact was last updated; zero when the object has neither.
func appliedTime(u *unstructured.Unstructured) time.Time {
	var s string
	if h, _, _ := unstructured.NestedSlice(u.Object, "status", "history"); len(h) > 0 {
		entry, _ := h[0].(map[string]any)
		for _, field := range []string{"lastReconciled", "lastDeployed"} {
			if s, _, _ = unstructured.NestedString(entry, field); s != "" {
				break
			}
		}
	}
	if s == "" {
		s, _, _ = unstructured.NestedString(u.Object, "status", "artifact", "lastUpdateTime")
	}
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// sortRows orders rows failing first, then progressing, suspended and ready; within a state
// by kind (sources first), namespace and name.
func sortRows(rows []*Row) {
	order := map[*objects.Kind]int{}
	for i, k := range objects.Kinds {
		order[k] = i
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.State != b.State {
			return a.State.rank() < b.State.rank()
		}
		if a.Kind != b.Kind {
			return order[a.Kind] < order[b.Kind]
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}

// Filter selects rows for the list view.
type Filter struct {
	Namespace string
	Kind      string // lower-case kind
	State     State
	Text      string
}

// Match reports whether r passes f. Text matches the name, namespace, reason, message or
// revision, case-insensitively.
func (f Filter) Match(r *Row) bool {
	if f.Namespace != "" && r.Namespace != f.Namespace {
		return false
	}
	if f.Kind != "" && strings.ToLower(r.Kind.Kind) != f.Kind {
		return false
	}
	if f.State != "" && r.State != f.State {
		return false
	}
	if f.Text != "" {
		t := strings.ToLower(f.Text)
		for _, s := range []string{r.Name, r.Namespace, r.Reason, r.Message, r.Revision} {
			if strings.Contains(strings.ToLower(s), t) {
				return true
			}
		}
		return false
	}
	return true
}
