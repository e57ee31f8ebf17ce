package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// screenshotsEnv names a directory the browser test writes the README's screenshots to
// (`make screenshots` sets it); unset, it takes none.
const screenshotsEnv = "WEIR_UI_SCREENSHOTS"

// chromiumPath finds Debian's Chromium, or $CHROMIUM. The UI's browser tests need it:
// `make test` installs it when it is missing.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the UI's browser tests need Chromium: install Debian's chromium (`make test` does), or set CHROMIUM")
	return ""
}

// newBrowser starts a headless Chromium for the test and returns a tab's context.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// step runs actions with a deadline, failing the test with what it was doing.
func step(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is true.
func waitFor(t testing.TB, ctx context.Context, what, predicate string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("waiting until %s (%s): %v", what, predicate, err)
	}
}

// screenshot saves a full-page screenshot as name in $WEIR_UI_SCREENSHOTS, when it is set.
func screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrowser(t *testing.T) {
	f := newFixture(t)
	ns := f.ns
	// A Kustomization the real kustomize-controller reconciles: it is the only object with the
	// label the controller is started with.
	live := kustomization(ns, "live", nil)
	live.Labels = map[string]string{meta.ShardKeyLabel: ns}
	live.Spec.SourceRef.Name = "no-such-repo"
	create(t, live)

	_, base := serve(t, env.Config)
	ctx := newBrowser(t)

	t.Run("overview lists the failing objects first", func(t *testing.T) {
		step(t, ctx, "opening the overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#failing tr.row")))
		sections := eval[[]string](t, ctx, `[...document.querySelectorAll('main section')].map(s => s.id)`)
		if len(sections) < 2 || sections[0] != "totals" || sections[1] != "failing" {
			t.Errorf("the overview's sections are %v, want the totals, then the failing objects", sections)
		}
		failing := eval[[]string](t, ctx, `[...document.querySelectorAll('#failing tr.row')].map(r => r.dataset.key)`)
		for _, want := range []string{"kustomization/" + ns + "/broken", "helmrelease/" + ns + "/web"} {
			if !strings.Contains(strings.Join(failing, " "), want) {
				t.Errorf("failing rows %v lack %s", failing, want)
			}
		}
		waitFor(t, ctx, "the live indicator is on", `document.getElementById('conn').textContent === 'live'`)
		screenshot(t, ctx, "overview.png")
	})

	t.Run("filtering narrows the list without a reload", func(t *testing.T) {
		step(t, ctx, "opening the list", chromedp.Navigate(base+"/objects?namespace="+ns), chromedp.WaitVisible(chromedp.CSS("#rows tr.row")))
		screenshot(t, ctx, "objects.png")
		eval[bool](t, ctx, `window.weirMarker = true`)
		// "/" jumps to the text filter, as on most sites with a search box.
		eval[bool](t, ctx, `document.body.dispatchEvent(new KeyboardEvent('keydown', {key: '/', bubbles: true, cancelable: true}))`)
		if !eval[bool](t, ctx, `document.activeElement === document.querySelector('input[name="q"]')`) {
			t.Error(`"/" did not focus the text filter`)
		}
		step(t, ctx, "typing a filter", chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "missing.yaml"))
		waitFor(t, ctx, "only broken is listed", `(() => { const r = [...document.querySelectorAll('#rows tr.row')]; return r.length === 1 && r[0].dataset.key.endsWith('/broken'); })()`)
		if !strings.Contains(eval[string](t, ctx, `location.search`), "q=missing.yaml") {
			t.Error("the filter is not in the address")
		}
		// Clear the text and choose a state, as a user's input would.
		eval[bool](t, ctx, `(() => {
			document.querySelector('input[name="q"]').value = '';
			const state = document.querySelector('select[name="state"]');
			state.value = 'failing';
			return state.dispatchEvent(new Event('input', {bubbles: true}));
		})()`)
		waitFor(t, ctx, "only failing objects are listed", `(() => { const r = [...document.querySelectorAll('#rows tr.row')]; return r.length === 2 && r.every(x => x.classList.contains('failing')); })()`)
		if !eval[bool](t, ctx, `window.weirMarker === true`) {
			t.Error("filtering reloaded the page")
		}
	})

	t.Run("a failing Kustomization's page shows conditions and events", func(t *testing.T) {
		step(t, ctx, "opening broken", chromedp.Click(chromedp.CSS(`#rows tr[data-key$="/broken"] a`)), chromedp.WaitVisible(chromedp.CSS("#conditions")))
		ready := eval[string](t, ctx, `document.querySelector('#conditions tr[data-type="Ready"]').textContent`)
		if !strings.Contains(ready, "BuildFailed") || !strings.Contains(ready, "deploy/broken/kustomization.yaml") {
			t.Errorf("Ready condition row: %q", ready)
		}
		events := eval[string](t, ctx, `document.querySelector('#events').textContent`)
		if !strings.Contains(events, "missing.yaml") {
			t.Errorf("events: %q", events)
		}
		screenshot(t, ctx, "failing-kustomization.png")
	})

	t.Run("an inventory is a tree with each object's health", func(t *testing.T) {
		step(t, ctx, "opening app", chromedp.Navigate(base+"/objects/kustomization/"+ns+"/app"), chromedp.WaitVisible(chromedp.CSS("#tree")))
		health := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('#tree li.inv')].map(li => [li.dataset.id, li.querySelector('.health').textContent]))`)
		for id, want := range map[string]string{
			ns + "_app-config__ConfigMap":                  "Current",
			ns + "_app-secret__Secret":                     "NotRead",
			ns + "_web_apps_Deployment":                    "NotFound",
			ns + "_child_kustomize.weir.dev_Kustomization": "Current",
			ns + "_child-config__ConfigMap":                "Current", // nested, expanded
		} {
			if health[id] != want {
				t.Errorf("%s: health %q, want %q (tree: %v)", id, health[id], want, health)
			}
		}
		if !eval[bool](t, ctx, `!!document.querySelector('#tree details[open] li.inv[data-id$="_child-config__ConfigMap"]')`) {
			t.Error("the nested Kustomization is not expanded under its parent")
		}
		if dir := os.Getenv(screenshotsEnv); dir != "" {
			png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#inventory")))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "inventory-tree.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("trace follows a managed object up to its source", func(t *testing.T) {
		step(t, ctx, "opening trace", chromedp.Navigate(base+"/trace"), chromedp.WaitVisible(chromedp.CSS(`#trace input[name="object"]`)))
		step(t, ctx, "asking for child-config",
			chromedp.SendKeys(chromedp.CSS(`#trace input[name="object"]`), "cm/child-config"),
			chromedp.SendKeys(chromedp.CSS(`#trace input[name="namespace"]`), ns),
			chromedp.Click(chromedp.CSS(`#trace button`)),
			chromedp.WaitVisible(chromedp.CSS("#trace-chain")))
		nodes := eval[[]string](t, ctx, `[...document.querySelectorAll('#trace-chain > li')].map(li => li.textContent.trim().split(/\s+/).slice(0, 2).join(' '))`)
		want := []string{"GitRepository " + ns + "/repo", "Kustomization " + ns + "/app", "Kustomization " + ns + "/child", "Current ConfigMap/" + ns + "/child-config"}
		if strings.Join(nodes, " | ") != strings.Join(want, " | ") {
			t.Errorf("trace chain %q, want %q", nodes, want)
		}
		screenshot(t, ctx, "trace.png")
	})

	t.Run("clicking reconcile makes the controller act", func(t *testing.T) {
		startKustomizeController(t, ns)
		testenv.Eventually(t, time.Minute, func() error {
			if k := getKustomization(t, ns, "live"); k.Status.ObservedGeneration == 0 {
				return fmt.Errorf("kustomize-controller has not reconciled live yet")
			}
			return nil
		})
		before := getKustomization(t, ns, "live").Status.LastHandledReconcileAt
		step(t, ctx, "opening live", chromedp.Navigate(base+"/objects/kustomization/"+ns+"/live"), chromedp.WaitVisible(chromedp.CSS(`button[data-action="reconcile"]`)))
		step(t, ctx, "clicking reconcile", chromedp.Click(chromedp.CSS(`button[data-action="reconcile"]`)))
		waitFor(t, ctx, "the UI confirms the request", `document.getElementById('flash').textContent.startsWith('Requested a reconcile')`)
		testenv.Eventually(t, time.Minute, func() error {
			k := getKustomization(t, ns, "live")
			requested := k.Annotations[meta.ReconcileRequestAnnotation]
			if requested == "" || k.Status.LastHandledReconcileAt != requested || requested == before {
				return fmt.Errorf("lastHandledReconcileAt %q, requested %q (before %q)", k.Status.LastHandledReconcileAt, requested, before)
			}
			return nil
		})
		// The page follows the controller's answer live.
		waitFor(t, ctx, "the page shows the handled request", fmt.Sprintf(`document.getElementById('facts').textContent.includes(%q)`, getKustomization(t, ns, "live").Status.LastHandledReconcileAt))
	})

	t.Run("a new failure appears without a reload", func(t *testing.T) {
		step(t, ctx, "opening the overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#failing")))
		waitFor(t, ctx, "the live indicator is on", `document.getElementById('conn').textContent === 'live'`)
		eval[bool](t, ctx, `window.weirMarker = true`)
		k := getKustomization(t, ns, "waiting")
		k.Status.Conditions = []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionFalse, "HealthCheckFailed", "Deployment/"+ns+"/web: timed out waiting for rollout")}
		if err := env.Client.Status().Update(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "waiting is listed as failing", `!!document.querySelector('#failing tr.row[data-key$="/waiting"]')`)
		if !eval[bool](t, ctx, `window.weirMarker === true`) {
			t.Error("the page was reloaded")
		}
	})

	t.Run("RBAC disables what the user may not do and reports what they may not see", func(t *testing.T) {
		other := env.Namespace(t)
		user := "carol-" + ns
		grant(t, user, ns, readOnly...)
		grant(t, user, "", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}})
		_, userBase := serve(t, impersonating(user))
		step(t, ctx, "opening app as "+user, chromedp.Navigate(userBase+"/objects/kustomization/"+ns+"/app"), chromedp.WaitVisible(chromedp.CSS(`button[data-action="reconcile"]`)))
		if !eval[bool](t, ctx, `document.querySelector('button[data-action="reconcile"]').disabled`) {
			t.Error("reconcile is enabled for a user who may not patch")
		}
		why := eval[string](t, ctx, `document.querySelector('#actions .why').textContent`)
		if !strings.Contains(why, "may not patch kustomizations in namespace "+ns) {
			t.Errorf("the disabled action's explanation: %q", why)
		}
		step(t, ctx, "opening the overview as "+user, chromedp.Navigate(userBase+"/"), chromedp.WaitVisible(chromedp.CSS("#failing")))
		if !eval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector('.banner.denied[data-denied=%q]')`, other)) {
			t.Errorf("the forbidden namespace %s is not reported", other)
		}
	})
}

// startKustomizeController builds and starts the real kustomize-controller, limited to the
// objects labelled with shard, until the test ends.
func startKustomizeController(t *testing.T, shard string) {
	t.Helper()
	bin := testenv.BuildBinary(t, filepath.Join(env.RepoRoot, "kustomize-controller"))
	health := testenv.FreePort(t)
	p := testenv.StartProcess(t, bin,
		"--kubeconfig="+env.KubeconfigPath,
		fmt.Sprintf("--health-addr=127.0.0.1:%d", health),
		"--metrics-addr=0",
		"--watch-label-selector="+meta.ShardKeyLabel+"="+shard,
	)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kustomize-controller output:\n%s", p.Output())
		}
	})
	if err := p.WaitHTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", health), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
}
