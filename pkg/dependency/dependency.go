package dependency

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultMaxVisits bounds the objects the cycle walk reads when Checker.MaxVisits is zero.
const DefaultMaxVisits = 1000

// Ref names an object, of one of the Checker's kinds, that another depends on.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
	// ReadyExpr, when set, is the CEL expression that decides the dependency's readiness in
	// place of NotReady (see ReadyExpr). It plays no part in the object's identity.
	ReadyExpr string
}

// String names the object the way messages do: `Kind 'namespace/name'`.
func (r Ref) String() string { return fmt.Sprintf("%s '%s/%s'", r.Kind, r.Namespace, r.Name) }

func (r Ref) short() string { return fmt.Sprintf("%s/%s/%s", r.Kind, r.Namespace, r.Name) }

// id is r without its ReadyExpr: the object it names.
func (r Ref) id() Ref { return Ref{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name} }

// NotReadyError names the first dependency that is missing or not ready.
type NotReadyError struct {
	Ref Ref
	// Missing is true when the dependency does not exist.
	Missing bool
	// Why says what is not ready about it: its Ready condition's reason and message, the
	// generation or revision not reconciled yet, or the result of its readyExpr.
	Why string
	// Ready is the status of the dependency's Ready condition ("" when it has none), and
	// Since when that condition last changed.
	Ready metav1.ConditionStatus
	Since metav1.Time
}

func (e *NotReadyError) Error() string {
	if e.Missing {
		return fmt.Sprintf("dependency %s not found", e.Ref)
	}
	if e.Ready != "" && !e.Since.IsZero() {
		return fmt.Sprintf("dependency %s is not ready (Ready=%s since %s): %s", e.Ref, e.Ready, e.Since.UTC().Format(time.RFC3339), e.Why)
	}
	return fmt.Sprintf("dependency %s is not ready: %s", e.Ref, e.Why)
}

// CycleError says the object depends on itself through Path (the object first and last).
type CycleError struct {
	Path []Ref
}

func (e *CycleError) Error() string {
	parts := make([]string, len(e.Path))
	for i, r := range e.Path {
		parts[i] = r.short()
	}
	return "dependency cycle " + strings.Join(parts, " -> ")
}

// Checker checks dependencies. Its fields must not change while it is used.
type Checker struct {
	// Reader reads dependencies; a controller's cached client is right: readiness is rechecked
	// on every requeue.
	Reader client.Reader
	// Scheme, when it knows a kind, makes reads typed (and so cached); other kinds are read as
	// unstructured objects.
	Scheme *runtime.Scheme
	// Kinds maps the kinds a dependency may have to their group and version, e.g.
	// "HelmRelease" to helm.weir.dev/v1.
	Kinds map[string]schema.GroupVersion
	// ExprReader, when set, reads the dependencies a readyExpr judges, for a Reader whose cache
	// keeps only part of each object (a readyExpr may read any field); nil uses Reader.
	ExprReader client.Reader
	// MaxVisits bounds the objects the cycle walk reads; zero means DefaultMaxVisits. A walk
	// that reaches the bound reports no cycle: the dependencies' readiness still gates.
	MaxVisits int
}

// Check checks owner's dependencies deps, in order, in two passes: first that owner is not
// part of a cycle (a *CycleError), then that each dependency exists and is ready (a
// *NotReadyError naming the first that is not). Other errors are failures to read.
// Each object's spec.dependsOn entries default their kind to the object's kind and their
// namespace to the object's namespace; owner's own list is deps, not read from the API.
// A dependency with a ReadyExpr is judged by it, with self empty: see CheckFor.
func (c *Checker) Check(ctx context.Context, owner Ref, deps []Ref) error {
	return c.CheckFor(ctx, nil, owner, deps)
}

// CheckFor is Check for the object self (owner's object, which readyExpr sees as `self`).
// Before anything is read, every readyExpr must compile: one that does not is an
// *InvalidExprError, which a user must fix.
func (c *Checker) CheckFor(ctx context.Context, self client.Object, owner Ref, deps []Ref) error {
	if len(deps) == 0 {
		return nil
	}
	exprs := make([]*ReadyExpr, len(deps))
	for i, d := range deps {
		if d.ReadyExpr == "" {
			continue
		}
		e, err := CompileReadyExpr(d.ReadyExpr)
		if err != nil {
			return &InvalidExprError{Index: i, Ref: d, Err: err}
		}
		exprs[i] = e
	}
	if err := c.findCycle(ctx, owner, deps); err != nil {
		return err
	}
	var selfMap map[string]any
	for i, d := range deps {
		reader := c.Reader
		if exprs[i] != nil && c.ExprReader != nil {
			reader = c.ExprReader
		}
		u, err := c.get(ctx, reader, d)
		if apierrors.IsNotFound(err) {
			return &NotReadyError{Ref: d, Missing: true}
		}
		if err != nil {
			return fmt.Errorf("reading dependency %s: %w", d, err)
		}
		nr := &NotReadyError{Ref: d}
		if ready := apimeta.FindStatusCondition(conditionsOf(u), "Ready"); ready != nil {
			nr.Ready, nr.Since = ready.Status, ready.LastTransitionTime
		}
		if exprs[i] == nil {
			if nr.Why = NotReady(u); nr.Why != "" {
				return nr
			}
			continue
		}
		if selfMap == nil {
			if selfMap, err = objectMap(self); err != nil {
				return err
			}
		}
		if nr.Why = exprs[i].NotReady(ctx, u.Object, selfMap); nr.Why != "" {
			return nr
		}
	}
	return nil
}

// findCycle walks dependsOn breadth-first from owner and returns a *CycleError for the
// shortest path back to owner, if any.
func (c *Checker) findCycle(ctx context.Context, owner Ref, deps []Ref) error {
	type node struct {
		ref  Ref
		path []Ref
	}
	limit := c.MaxVisits
	if limit <= 0 {
		limit = DefaultMaxVisits
	}
	owner = owner.id()
	queue := make([]node, 0, len(deps))
	seen := map[Ref]bool{owner: true}
	enqueue := func(from []Ref, next []Ref) error {
		for _, d := range next {
			d = d.id()
			path := append(append([]Ref{}, from...), d)
			if d == owner {
				return &CycleError{Path: path}
			}
			if !seen[d] {
				seen[d] = true
				queue = append(queue, node{ref: d, path: path})
			}
		}
		return nil
	}
	if err := enqueue([]Ref{owner}, deps); err != nil {
		return err
	}
	for visits := 0; len(queue) > 0 && visits < limit; visits++ {
		n := queue[0]
		queue = queue[1:]
		if _, known := c.Kinds[n.ref.Kind]; !known {
			continue
		}
		u, err := c.get(ctx, c.Reader, n.ref)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading dependency %s: %w", n.ref, err)
		}
		if err := enqueue(n.path, DependsOn(u)); err != nil {
			return err
		}
	}
	return nil
}

// get reads ref with reader as an unstructured object: typed through the Scheme when it knows
// the kind.
func (c *Checker) get(ctx context.Context, reader client.Reader, ref Ref) (*unstructured.Unstructured, error) {
	gv, ok := c.Kinds[ref.Kind]
	if !ok {
		return nil, fmt.Errorf("kind %q is not a kind dependencies may have", ref.Kind)
	}
	gvk := gv.WithKind(ref.Kind)
	key := client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
	if c.Scheme != nil && c.Scheme.Recognizes(gvk) {
		obj, err := c.Scheme.New(gvk)
		if err != nil {
			return nil, err
		}
		cobj, ok := obj.(client.Object)
		if !ok {
			return nil, fmt.Errorf("%s is not an object kind", gvk)
		}
		if err := reader.Get(ctx, key, cobj); err != nil {
			return nil, err
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cobj)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(gvk)
		return u, nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := reader.Get(ctx, key, u); err != nil {
		return nil, err
	}
	return u, nil
}

// DependsOn returns u's spec.dependsOn with kinds and namespaces defaulted to u's own, and
// their readyExprs.
// Malformed entries (no name) are skipped.
func DependsOn(u *unstructured.Unstructured) []Ref {
	list, _, _ := unstructured.NestedSlice(u.Object, "spec", "dependsOn")
	refs := make([]Ref, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		if name == "" {
			continue
		}
		r := Ref{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: name}
		if k, _ := m["kind"].(string); k != "" {
			r.Kind = k
		}
		if ns, _ := m["namespace"].(string); ns != "" {
			r.Namespace = ns
		}
		r.ReadyExpr, _ = m["readyExpr"].(string)
		refs = append(refs, r)
	}
	return refs
}

// NotReady returns why u is not ready at its latest generation, or "" when it is.
func NotReady(u *unstructured.Unstructured) string {
	gen := u.GetGeneration()
	conds := conditionsOf(u)
	ready := apimeta.FindStatusCondition(conds, "Ready")
	switch {
	case ready == nil:
		return "it has no Ready condition yet"
	case ready.Status != metav1.ConditionTrue:
		if ready.Message != "" {
			return fmt.Sprintf("%s: %s", ready.Reason, ready.Message)
		}
		return fmt.Sprintf("Ready is %s (%s)", ready.Status, ready.Reason)
	case ready.ObservedGeneration != gen:
		return fmt.Sprintf("generation %d has not been reconciled yet", gen)
	}
	if observed, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration"); found && observed != gen {
		return fmt.Sprintf("generation %d has not been reconciled yet", gen)
	}
	if apimeta.IsStatusConditionTrue(conds, "Reconciling") {
		return "it is reconciling"
	}
	applied, okApplied, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
	attempted, okAttempted, _ := unstructured.NestedString(u.Object, "status", "lastAttemptedRevision")
	if okApplied && okAttempted && applied != attempted {
		return fmt.Sprintf("revision %s has not been applied yet", attempted)
	}
	return ""
}

// conditionsOf returns status.conditions of u; malformed entries are skipped.
func conditionsOf(u *unstructured.Unstructured) []metav1.Condition {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	out := make([]metav1.Condition, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		var c metav1.Condition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &c); err != nil {
			continue
		}
		out = append(out, c)
	}
	return out
}

// IsNotReady reports whether err says a dependency is missing or not ready (not a cycle or a
// read failure).
func IsNotReady(err error) bool {
	var nr *NotReadyError
	return errors.As(err, &nr)
}
