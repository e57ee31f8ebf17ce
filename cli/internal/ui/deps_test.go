package ui

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

// depsGraph creates, in a new namespace: Kustomization apps depending on HelmRelease db
// (failing: the blocking edge) and on Kustomization infra (ready); HelmRelease db depending on
// infra; Kustomization lockstep depending on infra by a readyExpr infra does not meet.
func depsGraph(t *testing.T) string {
	ns := env.Namespace(t)
	apps := kustomization(ns, "apps", []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionFalse, meta.DependencyNotReadyReason, "dependency HelmRelease '"+ns+"/db' is not ready")})
	apps.Spec.DependsOn = []kustomizev1.DependencyReference{{Kind: helmv1.HelmReleaseKind, Name: "db"}, {Name: "infra"}}
	create(t, apps)
	db := &helmv1.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
		Spec: helmv1.HelmReleaseSpec{
			Interval:  metav1.Duration{Duration: time.Minute},
			ChartRef:  &helmv1.CrossNamespaceSourceReference{Kind: "HelmChart", Name: "db"},
			DependsOn: []helmv1.DependencyReference{{Kind: kustomizev1.KustomizationKind, Name: "infra"}},
		},
	}
	db.Status.Conditions = []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionFalse, "InstallFailed", "install failed: image pull")}
	db.Status.ObservedGeneration = 1
	create(t, db)
	infra := kustomization(ns, "infra", readyTrue("applied revision main@sha1:1"))
	infra.Labels = map[string]string{"app/version": "v1"}
	create(t, infra)
	lockstep := kustomization(ns, "lockstep", []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionFalse, meta.DependencyNotReadyReason, "waiting")})
	lockstep.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "infra", ReadyExpr: "dep.metadata.labels['app/version'] == 'v2'"}}
	create(t, lockstep)
	return ns
}

// TestDetailShowsDependencies: an object's page shows what it depends on and what depends on
// it, across Kustomizations and HelmReleases, each with its state, and marks the edges that
// block their dependent with why (the default rule or a readyExpr).
func TestDetailShowsDependencies(t *testing.T) {
	ns := depsGraph(t)
	_, base := serve(t, env.Config)

	page := func(kind, name string) string {
		t.Helper()
		code, body := fetch(t, base+"/objects/"+kind+"/"+ns+"/"+name)
		if code != 200 {
			t.Fatalf("%s/%s: %d", kind, name, code)
		}
		return html.UnescapeString(body)
	}
	section := func(body, id string) string {
		start := strings.Index(body, `id="`+id+`"`)
		if start < 0 {
			return ""
		}
		end := strings.Index(body[start:], "</ul>")
		return body[start : start+end]
	}

	body := page("kustomization", "apps")
	dependsOn := section(body, "depends-on")
	for _, want := range []string{
		`<li class="edge blocking" data-key="helmrelease/` + ns + `/db"><span class="kind">HelmRelease</span> <a href="/objects/helmrelease/` + ns + `/db">` + ns + `/db</a> <span class="state failing">failing</span> <span class="ready">Ready=False InstallFailed</span> <span class="why">◀ blocking: InstallFailed: install failed: image pull</span></li>`,
		`<li class="edge" data-key="kustomization/` + ns + `/infra"><span class="kind">Kustomization</span> <a href="/objects/kustomization/` + ns + `/infra">` + ns + `/infra</a> <span class="state ready">ready</span> <span class="ready">Ready=True</span></li>`,
	} {
		if !strings.Contains(dependsOn, want) {
			t.Errorf("apps' dependencies lack\n%s\nin\n%s", want, dependsOn)
		}
	}
	if rb := section(body, "required-by"); !strings.Contains(rb, "Nothing waits for it.") {
		t.Errorf("nothing depends on apps:\n%s", rb)
	}

	// db is required by apps, and blocks it.
	body = page("helmrelease", "db")
	if rb := section(body, "required-by"); !strings.Contains(rb, `<li class="edge blocking" data-key="kustomization/`+ns+`/apps">`) ||
		!strings.Contains(rb, "◀ blocking: InstallFailed: install failed: image pull") {
		t.Errorf("db's dependents should show apps, blocked by db:\n%s", rb)
	}

	// infra is required by three objects, across kinds; it blocks only lockstep, by its readyExpr.
	body = page("kustomization", "infra")
	rb := section(body, "required-by")
	for _, want := range []string{
		`<li class="edge blocking" data-key="kustomization/` + ns + `/lockstep">`,
		`<code class="expr" title="readyExpr">dep.metadata.labels['app/version'] == 'v2'</code> <span class="why">◀ blocking: readyExpr`,
		`<li class="edge" data-key="helmrelease/` + ns + `/db">`,
		`<li class="edge" data-key="kustomization/` + ns + `/apps">`,
	} {
		if !strings.Contains(rb, want) {
			t.Errorf("infra's dependents lack\n%s\nin\n%s", want, rb)
		}
	}
	if strings.Index(rb, "/lockstep") > strings.Index(rb, "/apps") {
		t.Errorf("the dependents infra blocks should come first:\n%s", rb)
	}
	if d := section(body, "depends-on"); !strings.Contains(d, "Nothing: it waits for no other object.") {
		t.Errorf("infra depends on nothing:\n%s", d)
	}
	if strings.Contains(page("kustomization", "apps"), `id="deps"`) == false {
		t.Error("no dependency section")
	}
}

// TestBrowserDependencyView: in a browser, an object's page updates its dependency view live
// when a dependency changes, not only when the object itself does: the blocking mark goes when
// the dependency becomes ready.
func TestBrowserDependencyView(t *testing.T) {
	ns := depsGraph(t)
	_, base := serve(t, env.Config)
	ctx := newBrowser(t)
	step(t, ctx, "opening apps", chromedp.Navigate(base+"/objects/kustomization/"+ns+"/apps"), chromedp.WaitVisible(chromedp.CSS("#depends-on li")))
	waitFor(t, ctx, "the live indicator is on", `document.getElementById('conn').textContent === 'live'`)
	blocking := `[...document.querySelectorAll('#depends-on li.blocking')].map(li => li.dataset.key).join(' ')`
	if got := eval[string](t, ctx, blocking); got != "helmrelease/"+ns+"/db" {
		t.Fatalf("blocking edges: %q, want db's", got)
	}
	screenshot(t, ctx, "dependencies.png")

	// db becomes ready: apps' page drops the blocking mark without a reload.
	eval[bool](t, ctx, `window.weirMarker = true`)
	db := &helmv1.HelmRelease{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "db"}, db); err != nil {
		t.Fatal(err)
	}
	db.Status.Conditions = []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionTrue, "InstallSucceeded", "installed")}
	if err := env.Client.Status().Update(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "db's edge is no longer blocking", `document.querySelectorAll('#depends-on li.blocking').length === 0 && document.querySelector('#depends-on li[data-key$="/db"] .state').textContent === 'ready'`)
	if !eval[bool](t, ctx, `window.weirMarker === true`) {
		t.Error("the update reloaded the page")
	}
}
