package dependency_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/dependency"
	"weir.dev/pkg/testenv"
)

var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

var kinds = map[string]schema.GroupVersion{
	helmv1.HelmReleaseKind:        helmv1.GroupVersion,
	kustomizev1.KustomizationKind: kustomizev1.GroupVersion,
}

// checkers returns a typed (scheme) and an unstructured checker: both must agree.
func checkers() map[string]*dependency.Checker {
	return map[string]*dependency.Checker{
		"typed":        {Reader: env.Client, Scheme: env.Scheme, Kinds: kinds},
		"unstructured": {Reader: env.Client, Kinds: kinds},
	}
}

func helmRelease(t *testing.T, ns, name string, deps ...helmv1.DependencyReference) *helmv1.HelmRelease {
	t.Helper()
	hr := &helmv1.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: helmv1.HelmReleaseSpec{
			ChartRef:  &helmv1.CrossNamespaceSourceReference{Kind: "HelmChart", Name: "chart"},
			Interval:  metav1.Duration{Duration: time.Minute},
			DependsOn: deps,
		},
	}
	if err := env.Client.Create(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

func kustomization(t *testing.T, ns, name string, deps ...string) *kustomizev1.Kustomization {
	t.Helper()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
			Interval:  metav1.Duration{Duration: time.Minute},
		},
	}
	for _, d := range deps {
		ks.Spec.DependsOn = append(ks.Spec.DependsOn, kustomizev1.DependencyReference{Name: d})
	}
	if err := env.Client.Create(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	return ks
}

// setStatus writes conditions (Ready's observedGeneration = generation+lag) and
// status.observedGeneration to obj.
func setStatus(t *testing.T, obj client.Object, conds []metav1.Condition) {
	t.Helper()
	for i := range conds {
		if conds[i].ObservedGeneration == 0 {
			conds[i].ObservedGeneration = obj.GetGeneration()
		}
		conds[i].LastTransitionTime = metav1.Now()
		if conds[i].Reason == "" {
			conds[i].Reason = "Test"
		}
	}
	switch o := obj.(type) {
	case *helmv1.HelmRelease:
		o.Status.Conditions = conds
		o.Status.ObservedGeneration = o.Generation
	case *kustomizev1.Kustomization:
		o.Status.Conditions = conds
		o.Status.ObservedGeneration = o.Generation
	}
	if err := env.Client.Status().Update(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func ready() []metav1.Condition {
	return []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue}}
}

func ref(kind, ns, name string) dependency.Ref {
	return dependency.Ref{Kind: kind, Namespace: ns, Name: name}
}

func TestCheckReadiness(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()

	okHR := helmRelease(t, ns, "ok")
	setStatus(t, okHR, ready())
	okKS := kustomization(t, ns, "ok")
	setStatus(t, okKS, ready())

	failing := helmRelease(t, ns, "failing")
	setStatus(t, failing, []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: "InstallFailed", Message: "install failed: boom"}})

	stale := helmRelease(t, ns, "stale")
	setStatus(t, stale, ready())
	stale.Spec.Interval = metav1.Duration{Duration: 2 * time.Minute} // a new generation, not yet reconciled
	if err := env.Client.Update(ctx, stale); err != nil {
		t.Fatal(err)
	}

	reconciling := kustomization(t, ns, "reconciling")
	setStatus(t, reconciling, append(ready(), metav1.Condition{Type: meta.ReconcilingCondition, Status: metav1.ConditionTrue}))

	unapplied := kustomization(t, ns, "unapplied")
	unapplied.Status.LastAttemptedRevision = "main@sha1:2"
	unapplied.Status.LastAppliedRevision = "main@sha1:1"
	setStatus(t, unapplied, ready())

	helmRelease(t, ns, "fresh")

	owner := ref("HelmRelease", ns, "owner")
	cases := []struct {
		name    string
		deps    []dependency.Ref
		wantErr string // "" for nil
	}{
		{name: "none"},
		{name: "ready of both kinds", deps: []dependency.Ref{ref("HelmRelease", ns, "ok"), ref("Kustomization", ns, "ok")}},
		{name: "missing", deps: []dependency.Ref{ref("HelmRelease", ns, "ok"), ref("Kustomization", ns, "nope")},
			wantErr: "dependency Kustomization '" + ns + "/nope' not found"},
		{name: "not ready names its message", deps: []dependency.Ref{ref("HelmRelease", ns, "failing")},
			wantErr: "dependency HelmRelease '" + ns + "/failing' is not ready (Ready=False since 20"},
		{name: "not ready names Ready's reason and message", deps: []dependency.Ref{ref("HelmRelease", ns, "failing")},
			wantErr: "Z): InstallFailed: install failed: boom"},
		{name: "ready for an older generation", deps: []dependency.Ref{ref("HelmRelease", ns, "stale")},
			wantErr: "has not been reconciled yet"},
		{name: "reconciling", deps: []dependency.Ref{ref("Kustomization", ns, "reconciling")},
			wantErr: "is reconciling"},
		{name: "revision not applied", deps: []dependency.Ref{ref("Kustomization", ns, "unapplied")},
			wantErr: "revision main@sha1:2 has not been applied yet"},
		{name: "no status yet", deps: []dependency.Ref{ref("HelmRelease", ns, "fresh")},
			wantErr: "no Ready condition"},
		{name: "first not ready is named", deps: []dependency.Ref{ref("HelmRelease", ns, "ok"), ref("HelmRelease", ns, "fresh"), ref("HelmRelease", ns, "failing")},
			wantErr: "'" + ns + "/fresh'"},
	}
	for cname, c := range checkers() {
		for _, tc := range cases {
			t.Run(cname+"/"+tc.name, func(t *testing.T) {
				err := c.Check(ctx, owner, tc.deps)
				if tc.wantErr == "" {
					if err != nil {
						t.Fatalf("got %v, want ready", err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				if !dependency.IsNotReady(err) {
					t.Fatalf("%v is not a NotReadyError", err)
				}
			})
		}
	}
}

func TestCheckCycles(t *testing.T) {
	ns := env.Namespace(t)
	other := env.Namespace(t)
	ctx := context.Background()
	hr := func(name string) helmv1.DependencyReference { return helmv1.DependencyReference{Name: name} }

	// a -> b -> c -> a, all HelmReleases, all ready: the cycle is still refused.
	for _, o := range []client.Object{
		helmRelease(t, ns, "b", hr("c")),
		helmRelease(t, ns, "c", hr("a")),
	} {
		setStatus(t, o, ready())
	}
	// d -> Kustomization k1 -> k2 -> k1: a cycle among the dependencies, not through d.
	setStatus(t, kustomization(t, ns, "k1", "k2"), ready())
	setStatus(t, kustomization(t, ns, "k2", "k1"), ready())
	// e -> HelmRelease other/x -> HelmRelease other/e (not ns/e): namespaces default per object.
	setStatus(t, helmRelease(t, other, "x", hr("e")), ready())

	for cname, c := range checkers() {
		t.Run(cname, func(t *testing.T) {
			err := c.Check(ctx, ref("HelmRelease", ns, "a"), []dependency.Ref{ref("HelmRelease", ns, "b")})
			var cycle *dependency.CycleError
			if !errors.As(err, &cycle) {
				t.Fatalf("got %v, want a cycle", err)
			}
			want := "dependency cycle HelmRelease/" + ns + "/a -> HelmRelease/" + ns + "/b -> HelmRelease/" + ns + "/c -> HelmRelease/" + ns + "/a"
			if err.Error() != want {
				t.Fatalf("got %q, want %q", err, want)
			}

			if err := c.Check(ctx, ref("HelmRelease", ns, "d"), []dependency.Ref{ref("Kustomization", ns, "k1")}); err != nil {
				t.Fatalf("a cycle not through the owner must not be reported; got %v", err)
			}

			if err := c.Check(ctx, ref("HelmRelease", ns, "e"), []dependency.Ref{ref("HelmRelease", other, "x")}); err != nil {
				t.Fatalf("other/x depends on other/e, not on %s/e: got %v, want ready", ns, err)
			}

			if err := c.Check(ctx, ref("Kustomization", ns, "k1"), []dependency.Ref{ref("Kustomization", ns, "k2")}); err == nil ||
				!strings.Contains(err.Error(), "Kustomization/"+ns+"/k1 -> Kustomization/"+ns+"/k2 -> Kustomization/"+ns+"/k1") {
				t.Fatalf("got %v, want the Kustomization cycle", err)
			}
		})
	}

	// A walk bounded to one visit cannot see the cycle a -> b -> c -> a; readiness still gates.
	bounded := &dependency.Checker{Reader: env.Client, Scheme: env.Scheme, Kinds: kinds, MaxVisits: 1}
	if err := bounded.Check(ctx, ref("HelmRelease", ns, "a"), []dependency.Ref{ref("HelmRelease", ns, "b")}); err != nil {
		t.Fatalf("bounded walk: got %v, want no error", err)
	}
}

func TestCrossKindCycle(t *testing.T) {
	// HelmReleases may depend on Kustomizations; a cycle back to a HelmRelease through a
	// Kustomization is only possible when the walk follows kinds, which it does.
	ns := env.Namespace(t)
	ctx := context.Background()
	setStatus(t, helmRelease(t, ns, "b", helmv1.DependencyReference{Kind: "Kustomization", Name: "k"}), ready())
	setStatus(t, kustomization(t, ns, "k", "k2"), ready())
	setStatus(t, kustomization(t, ns, "k2"), ready())
	c := &dependency.Checker{Reader: env.Client, Scheme: env.Scheme, Kinds: kinds}
	if err := c.Check(ctx, ref("HelmRelease", ns, "a"), []dependency.Ref{ref("HelmRelease", ns, "b")}); err != nil {
		t.Fatalf("got %v, want ready through HelmRelease b and Kustomizations k, k2", err)
	}
	// Seen from Kustomization k2 as the owner of a dependency on HelmRelease b, the walk follows
	// b's Kustomization entry and k's kind-less one (a Kustomization) back to k2.
	if err := c.Check(ctx, ref("Kustomization", ns, "k2"), []dependency.Ref{ref("HelmRelease", ns, "b")}); err == nil ||
		!strings.Contains(err.Error(), "dependency cycle Kustomization/"+ns+"/k2 -> HelmRelease/"+ns+"/b -> Kustomization/"+ns+"/k -> Kustomization/"+ns+"/k2") {
		t.Fatalf("got %v, want the cross-kind cycle k2 -> b -> k -> k2", err)
	}
}

func TestBecameReady(t *testing.T) {
	notReady := &helmv1.HelmRelease{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	readyHR := notReady.DeepCopy()
	readyHR.Status.ObservedGeneration = 2
	readyHR.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, ObservedGeneration: 2}}
	p := dependency.BecameReady{}
	if !p.Update(event.UpdateEvent{ObjectOld: notReady, ObjectNew: readyHR}) {
		t.Error("not ready -> ready must pass")
	}
	if p.Update(event.UpdateEvent{ObjectOld: readyHR, ObjectNew: readyHR}) {
		t.Error("ready -> ready must not pass")
	}
	if p.Update(event.UpdateEvent{ObjectOld: readyHR, ObjectNew: notReady}) {
		t.Error("ready -> not ready must not pass")
	}
	applied := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
	applied.Status.ObservedGeneration = 1
	applied.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, ObservedGeneration: 1}}
	applied.Status.LastAppliedRevision, applied.Status.LastAttemptedRevision = "main@sha1:1", "main@sha1:1"
	next := applied.DeepCopy()
	next.Status.LastAppliedRevision, next.Status.LastAttemptedRevision = "main@sha1:2", "main@sha1:2"
	if !p.Update(event.UpdateEvent{ObjectOld: applied, ObjectNew: next}) {
		t.Error("ready -> ready at a new applied revision must pass")
	}
}

func TestReadyExpr(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	// The dependency is labelled v1 and not Ready: only readyExpr decides.
	backend := kustomization(t, ns, "backend")
	backend.Labels = map[string]string{"app/version": "v1"}
	if err := env.Client.Update(ctx, backend); err != nil {
		t.Fatal(err)
	}
	setStatus(t, backend, []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: "HealthCheckFailed", Message: "timeout"}})
	self := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "frontend", Labels: map[string]string{"app/version": "v1"}}}
	owner := ref("Kustomization", ns, "frontend")
	dep := func(expr string) []dependency.Ref {
		return []dependency.Ref{{Kind: "Kustomization", Namespace: ns, Name: "backend", ReadyExpr: expr}}
	}
	same := "dep.metadata.labels['app/version'] == self.metadata.labels['app/version']"
	for cname, c := range checkers() {
		t.Run(cname, func(t *testing.T) {
			if err := c.CheckFor(ctx, self, owner, dep(same)); err != nil {
				t.Fatalf("true readyExpr: got %v, want ready although Ready=False", err)
			}
			if err := c.CheckFor(ctx, self, owner, nil); err != nil {
				t.Fatalf("no dependencies: got %v", err)
			}
			err := c.CheckFor(ctx, self, owner, dep(same+" && dep.status.conditions.exists(e, e.type == 'Ready' && e.status == 'True')"))
			if !dependency.IsNotReady(err) || !strings.Contains(err.Error(), "is not ready (Ready=False since ") || !strings.Contains(err.Error(), "Z): readyExpr '"+same) {
				t.Fatalf("false readyExpr: got %v, want not ready naming the expression and Ready's state", err)
			}
			err = c.CheckFor(ctx, self, owner, dep("dep.metadata.labels['missing'] == 'x'"))
			if !dependency.IsNotReady(err) || !strings.Contains(err.Error(), "could not be evaluated") {
				t.Fatalf("readyExpr failing at evaluation: got %v, want not ready", err)
			}
			err = c.CheckFor(ctx, self, owner, dep("dep.metadata.name ==")) // does not parse
			var invalid *dependency.InvalidExprError
			if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "spec.dependsOn[0].readyExpr of Kustomization '"+ns+"/backend' is invalid") ||
				!strings.Contains(err.Error(), "dep.metadata.name ==") {
				t.Fatalf("invalid readyExpr: got %v, want an InvalidExprError naming the field and the expression", err)
			}
			err = c.CheckFor(ctx, self, owner, dep("dep.metadata.name")) // not a bool
			if !errors.As(err, &invalid) {
				t.Fatalf("non-bool readyExpr: got %v, want an InvalidExprError", err)
			}
		})
	}
}
