package ui

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
)

// keysIn returns the data-key attributes of the rows in html, in order.
func keysIn(html string) []string {
	var keys []string
	for _, m := range regexp.MustCompile(`data-key="([^"]+)"`).FindAllStringSubmatch(html, -1) {
		keys = append(keys, m[1])
	}
	return keys
}

func TestOverviewShowsFailingFirst(t *testing.T) {
	f := newFixture(t)
	_, base := serve(t, env.Config)
	code, body := fetch(t, base+"/")
	if code != http.StatusOK {
		t.Fatalf("GET /: %d\n%s", code, body)
	}
	failing := body[strings.Index(body, `id="failing"`):strings.Index(body, `id="counts"`)]
	for _, want := range []string{"kustomization/" + f.ns + "/broken", "helmrelease/" + f.ns + "/web", "BuildFailed", "deploy/broken/kustomization.yaml: accumulating resources", "InstallFailed"} {
		if !strings.Contains(failing, want) {
			t.Errorf("the failing section lacks %q:\n%s", want, failing)
		}
	}
	for _, notWant := range []string{"/" + f.ns + "/app\"", "/" + f.ns + "/waiting\"", "/" + f.ns + "/paused\""} {
		if strings.Contains(failing, notWant) {
			t.Errorf("the failing section shows %s, which is not failing", notWant)
		}
	}
	if strings.Index(body, `id="failing"`) > strings.Index(body, `id="counts"`) {
		t.Error("the failing objects are not shown first")
	}
	warnings := body[strings.Index(body, `id="warnings"`):]
	if !strings.Contains(warnings, "missing.yaml") || !strings.Contains(warnings, "/objects/kustomization/"+f.ns+"/broken") {
		t.Errorf("the newest warnings lack broken's event:\n%s", warnings)
	}
}

func TestListSortsFiltersAndPages(t *testing.T) {
	f := newFixture(t)
	_, base := serve(t, env.Config)
	ns := f.ns
	_, body := fetch(t, base+"/objects?namespace="+ns)
	got := strings.Join(keysIn(body), " ")
	want := strings.Join([]string{
		"kustomization/" + ns + "/broken", "helmrelease/" + ns + "/web", // failing
		"kustomization/" + ns + "/waiting", // progressing
		"kustomization/" + ns + "/paused",  // suspended
		"gitrepository/" + ns + "/repo", "helmrepository/" + ns + "/charts", "helmchart/" + ns + "/chart",
		"kustomization/" + ns + "/app", "kustomization/" + ns + "/child",
	}, " ")
	if got != want {
		t.Errorf("rows:\n got %s\nwant %s", got, want)
	}
	for query, want := range map[string]string{
		"&state=failing":     "kustomization/" + ns + "/broken helmrelease/" + ns + "/web",
		"&q=MISSING.yaml":    "kustomization/" + ns + "/broken",
		"&kind=helmrelease":  "helmrelease/" + ns + "/web",
		"&state=suspended":   "kustomization/" + ns + "/paused",
		"&per=2&page=2":      "kustomization/" + ns + "/waiting kustomization/" + ns + "/paused",
		"&q=no-such-object!": "",
	} {
		_, body := fetch(t, base+"/objects?namespace="+ns+query)
		if got := strings.Join(keysIn(body), " "); got != want {
			t.Errorf("%s: got %q, want %q", query, got, want)
		}
	}
	_, body = fetch(t, base+"/objects?namespace="+ns+"&per=2&page=2")
	if !strings.Contains(body, "3–4 of 9 matching") || !strings.Contains(body, `rel="prev"`) || !strings.Contains(body, `rel="next"`) {
		t.Errorf("page 2 of 4 lacks its summary or links:\n%s", body)
	}
}

func TestDetailPage(t *testing.T) {
	f := newFixture(t)
	_, base := serve(t, env.Config)
	code, body := fetch(t, base+"/objects/kustomization/"+f.ns+"/app")
	if code != http.StatusOK {
		t.Fatalf("%d\n%s", code, body)
	}
	for _, want := range []string{
		`data-type="Ready"`, "applied revision main@sha1:" + f.commit, // conditions
		"https://github.com/weir-dev/demo/commit/" + f.commit, // source chain with a commit link
		`data-id="` + f.ns + `_app-config__ConfigMap"`,        // inventory
		"h-current", "h-notfound", "h-notread", "Secrets are not read by the UI",
		`data-id="` + f.ns + `_child-config__ConfigMap"`, // the nested Kustomization, expanded
		"kubectl-edit", ".data.k", // drift
		"ReconciliationSucceeded", // history
		`data-action="reconcile"`, `data-action="reconcile-source"`, `data-action="suspend"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page of app lacks %q", want)
		}
	}
	if strings.Contains(body, "hunter2") {
		t.Fatal("the page shows Secret data")
	}
	if strings.Contains(body, " disabled") {
		t.Error("an administrator sees a disabled action")
	}

	_, body = fetch(t, base+"/objects/kustomization/"+f.ns+"/app?inv=child")
	if strings.Contains(body, "app-config__ConfigMap\"") || !strings.Contains(body, "_child_kustomize.weir.dev_Kustomization") || !strings.Contains(body, "1 matching") {
		t.Errorf("the inventory filter did not filter:\n%s", body[strings.Index(body, `id="inventory"`):])
	}

	_, body = fetch(t, base+"/objects/kustomization/"+f.ns+"/broken")
	if !strings.Contains(body, `id="events"`) || !strings.Contains(body[strings.Index(body, `id="events"`):], "missing.yaml") {
		t.Error("broken's page lacks its event")
	}
	// A HelmRelease's chain: its HelmChart, and the chart's HelmRepository.
	_, body = fetch(t, base+"/objects/helmrelease/"+f.ns+"/web")
	chain := body[strings.Index(body, `id="chain"`):strings.Index(body, `id="conditions"`)]
	repoAt, chartAt, selfAt := strings.Index(chain, "/objects/helmrepository/"+f.ns+"/charts"), strings.Index(chain, "/objects/helmchart/"+f.ns+"/chart"), strings.Index(chain, "(this object)")
	if repoAt < 0 || chartAt < repoAt || selfAt < chartAt || !strings.Contains(chain, "1.2.3") {
		t.Errorf("the HelmRelease's source chain is not HelmRepository → HelmChart 1.2.3 → it:\n%s", chain)
	}
	if !strings.Contains(body, "Helm install failed: values.yaml") {
		t.Error("the HelmRelease's page lacks its failure")
	}

	_, body = fetch(t, base+"/objects/gitrepository/"+f.ns+"/repo")
	if !strings.Contains(body, "Used as the source of") || !strings.Contains(body, "/objects/kustomization/"+f.ns+"/app") {
		t.Error("the GitRepository's page does not list what uses it")
	}

	// A large inventory is capped, with the count, and the filter reaches the rest.
	var ids []string
	for i := range 260 {
		ids = append(ids, fmt.Sprintf("%s_cm-%04d__ConfigMap", f.ns, i))
	}
	create(t, kustomization(f.ns, "big", readyTrue("applied"), ids...))
	configMaps(t, f.ns, 20)
	_, body = fetch(t, base+"/objects/kustomization/"+f.ns+"/big")
	if n := strings.Count(body, `class="inv `); n != inventoryShown || !strings.Contains(body, "260 objects; showing the first 200") {
		t.Errorf("a 260-object inventory shows %d nodes; summary: %s", n, body[strings.Index(body, `id="inventory"`):][:600])
	}
	// Read with one list: the 20 that exist are Current, the others NotFound.
	if current, missing := strings.Count(body, `class="inv h-current"`), strings.Count(body, `class="inv h-notfound"`); current != 20 || missing != 180 {
		t.Errorf("health: %d Current, %d NotFound; want 20 and 180", current, missing)
	}
	_, body = fetch(t, base+"/objects/kustomization/"+f.ns+"/big?inv=cm-025")
	if n := strings.Count(body, `class="inv `); n != 10 || !strings.Contains(body, "10 matching") {
		t.Errorf("the filter cm-025 shows %d nodes, want 10", n)
	}

	code, body = fetch(t, base+"/objects/kustomization/"+f.ns+"/nope")
	if code != http.StatusNotFound || !strings.Contains(body, "not found") {
		t.Errorf("a missing object: %d\n%s", code, body)
	}
	code, body = fetch(t, base+"/objects/widget/"+f.ns+"/nope")
	if code != http.StatusNotFound || !strings.Contains(body, "unknown kind") {
		t.Errorf("an unknown kind: %d\n%s", code, body)
	}
}

// post sends an action with headers and returns the status and body.
func post(t testing.TB, url string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	_, _ = bufioCopy(&b, res)
	return res.StatusCode, b.String()
}

func bufioCopy(b *strings.Builder, res *http.Response) (int64, error) {
	r := bufio.NewReader(res.Body)
	return r.WriteTo(b)
}

func getKustomization(t testing.TB, ns, name string) *kustomizev1.Kustomization {
	t.Helper()
	k := &kustomizev1.Kustomization{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestActions(t *testing.T) {
	f := newFixture(t)
	var log testenv.SyncBuffer
	s, base := serveWith(t, Options{Config: env.Config, Log: &log})
	url := base + "/objects/kustomization/" + f.ns + "/app/"
	token := map[string]string{"X-Weir-Token": s.token}

	// Requests another site could make are refused before anything is patched.
	for name, h := range map[string]map[string]string{
		"no token":      {},
		"wrong token":   {"X-Weir-Token": "0000"},
		"cross origin":  {"X-Weir-Token": s.token, "Origin": "https://evil.example"},
		"cross site":    {"X-Weir-Token": s.token, "Sec-Fetch-Site": "cross-site"},
		"rebound host":  {"X-Weir-Token": s.token, "Host": "evil.example:80"},
		"form no token": {"Content-Type": "application/x-www-form-urlencoded"},
	} {
		code, body := post(t, url+"reconcile", h)
		if code != http.StatusForbidden && code != http.StatusMisdirectedRequest {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	if got := getKustomization(t, f.ns, "app").Annotations[meta.ReconcileRequestAnnotation]; got != "" {
		t.Fatalf("a refused request patched the object: %s", got)
	}
	// A body past 64 KiB is not read, so its token is not seen.
	big, _ := http.NewRequest(http.MethodPost, url+"reconcile", strings.NewReader(strings.Repeat("x=y&", 32<<10)+"token="+s.token))
	big.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := http.DefaultClient.Do(big); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a 128 KiB form: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	// A page read through another name (DNS rebinding) would hand out the token: refused too.
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Host = "rebound.example:" + strings.Split(base, ":")[2]
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a GET with a foreign Host: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	code, body := post(t, url+"reconcile", token)
	if code != http.StatusOK || !strings.Contains(body, "Requested a reconcile of Kustomization "+f.ns+"/app") {
		t.Fatalf("reconcile: %d %s", code, body)
	}
	if !strings.Contains(log.String(), " reconcile Kustomization "+f.ns+"/app: 200 Requested a reconcile") {
		t.Errorf("the action is not logged:\n%s", log.String())
	}
	if getKustomization(t, f.ns, "app").Annotations[meta.ReconcileRequestAnnotation] == "" {
		t.Error("reconcile did not set the request annotation")
	}

	code, body = post(t, url+"reconcile-source", token)
	if code != http.StatusOK || !strings.Contains(body, "its source GitRepository "+f.ns+"/repo") {
		t.Fatalf("reconcile-source: %d %s", code, body)
	}
	repo := &sourcev1.GitRepository{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: "repo"}, repo); err != nil {
		t.Fatal(err)
	}
	if repo.Annotations[meta.ReconcileRequestAnnotation] == "" {
		t.Error("reconcile-source did not request a reconcile of the source")
	}

	if code, body := post(t, url+"suspend", token); code != http.StatusOK {
		t.Fatalf("suspend: %d %s", code, body)
	}
	if !getKustomization(t, f.ns, "app").Spec.Suspend {
		t.Error("suspend did not set spec.suspend")
	}
	if code, body := post(t, url+"reconcile", token); code != http.StatusConflict || !strings.Contains(body, "is suspended") {
		t.Errorf("reconcile of a suspended object: %d %s", code, body)
	}
	before := getKustomization(t, f.ns, "app").Annotations[meta.ReconcileRequestAnnotation]
	if code, body := post(t, url+"resume", token); code != http.StatusOK {
		t.Fatalf("resume: %d %s", code, body)
	}
	k := getKustomization(t, f.ns, "app")
	if k.Spec.Suspend || k.Annotations[meta.ReconcileRequestAnnotation] == before {
		t.Errorf("resume: suspend=%v, request %q (was %q)", k.Spec.Suspend, k.Annotations[meta.ReconcileRequestAnnotation], before)
	}

	// A plain form post (no script) with the token is sent back to the page.
	req, _ = http.NewRequest(http.MethodPost, url+"reconcile", strings.NewReader("token="+s.token))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/objects/kustomization/"+f.ns+"/app" {
		t.Errorf("form post: %d → %s", res.StatusCode, res.Header.Get("Location"))
	}

	if code, body := post(t, url+"explode", token); code != http.StatusNotFound || !strings.Contains(body, "unknown action") {
		t.Errorf("unknown action: %d %s", code, body)
	}
	if code, body := post(t, base+"/objects/kustomization/"+f.ns+"/nope/reconcile", token); code != http.StatusNotFound || !strings.Contains(body, "not found") {
		t.Errorf("missing object: %d %s", code, body)
	}
}

func TestRBACIsTheUsers(t *testing.T) {
	f := newFixture(t)
	other := env.Namespace(t) // holds objects alice may not list
	create(t, kustomization(other, "secret-project", readyTrue("applied")))
	user := "alice-" + f.ns
	grant(t, user, f.ns, readOnly...)
	grant(t, user, "", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}})

	s, base := serveWith(t, Options{Config: impersonating(user), Rediscover: 200 * time.Millisecond})
	_, body := fetch(t, base+"/")
	if !strings.Contains(body, `data-denied="`+other+`"`) || !strings.Contains(body, "may not list") {
		t.Errorf("the forbidden namespace %s is not reported:\n%s", other, body)
	}
	_, body = fetch(t, base+"/objects")
	if strings.Contains(body, "secret-project") {
		t.Error("alice sees an object of a namespace she may not list")
	}
	if !strings.Contains(body, "kustomization/"+f.ns+"/broken") {
		t.Error("alice does not see the objects of her namespace")
	}

	_, body = fetch(t, base+"/objects/kustomization/"+f.ns+"/app")
	if !strings.Contains(body, `data-action="reconcile" disabled`) || !strings.Contains(body, "may not patch kustomizations in namespace "+f.ns) {
		t.Errorf("alice's reconcile button is not disabled with a reason:\n%s", body[strings.Index(body, `id="actions"`):strings.Index(body, `id="chain"`)])
	}
	if !strings.Contains(body, "h-notread") || strings.Contains(body, "h-forbidden") {
		t.Error("the Secret in the inventory is read (or attempted) instead of skipped")
	}

	code, msg := post(t, base+"/objects/kustomization/"+f.ns+"/app/reconcile", map[string]string{"X-Weir-Token": s.token})
	if code != http.StatusForbidden || !strings.Contains(msg, "forbidden by Kubernetes RBAC") {
		t.Errorf("alice's reconcile: %d %s", code, msg)
	}
	if getKustomization(t, f.ns, "app").Annotations[meta.ReconcileRequestAnnotation] != "" {
		t.Error("alice's forbidden reconcile patched the object")
	}

	// Namespaces created after the start are found: the objects of one alice may read appear,
	// one she may not is reported.
	later, closed := env.Namespace(t), env.Namespace(t)
	grant(t, user, later, readOnly...)
	create(t, kustomization(later, "late", readyTrue("applied")))
	create(t, kustomization(closed, "hidden", readyTrue("applied")))
	eventually(t, func() error {
		_, body := fetch(t, base+"/objects")
		if !strings.Contains(body, "kustomization/"+later+"/late") || !strings.Contains(body, `data-denied="`+closed+`"`) || strings.Contains(body, "hidden") {
			return fmt.Errorf("the new namespaces are not shown as they should be")
		}
		return nil
	})
	// Access granted later is found too.
	grant(t, user, closed, readOnly...)
	eventually(t, func() error {
		_, body := fetch(t, base+"/objects")
		if !strings.Contains(body, "kustomization/"+closed+"/hidden") || strings.Contains(body, `data-denied="`+closed+`"`) {
			return fmt.Errorf("access granted to %s is not followed", closed)
		}
		return nil
	})

	// Without the right to list namespaces, the UI falls back to the namespaces it was given.
	bob := "bob-" + f.ns
	grant(t, bob, f.ns, readOnly...)
	_, base = serve(t, impersonating(bob), f.ns, other)
	_, body = fetch(t, base+"/objects")
	if !strings.Contains(body, "kustomization/"+f.ns+"/broken") || !strings.Contains(body, `data-denied="`+other+`"`) {
		t.Errorf("bob's list: want his namespace's objects and %s reported forbidden", other)
	}
}

func TestWatchStreamsChanges(t *testing.T) {
	f := newFixture(t)
	_, base := serve(t, env.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/watch", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	if !lines.Scan() {
		t.Fatal("no event stream")
	}

	k := getKustomization(t, f.ns, "waiting")
	k.Status.Conditions = []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionFalse, "HealthCheckFailed", "Deployment/web: timed out")}
	if err := env.Client.Status().Update(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	want := `"kustomization/` + f.ns + `/waiting"`
	for lines.Scan() {
		if line := lines.Text(); strings.HasPrefix(line, "data: ") && strings.Contains(line, want) {
			return
		}
	}
	t.Fatalf("no change event for %s: %v", want, lines.Err())
}

func TestReadOnly(t *testing.T) {
	f := newFixture(t)
	var log testenv.SyncBuffer
	s, base := serveWith(t, Options{Config: env.Config, ReadOnly: true, Log: &log})
	_, body := fetch(t, base+"/objects/kustomization/"+f.ns+"/app")
	for _, action := range []string{"reconcile", "reconcile-source", "suspend"} {
		if !strings.Contains(body, `data-action="`+action+`" disabled title="`+readOnlyReason+`"`) {
			t.Errorf("%s is not disabled in a read-only UI", action)
		}
	}
	code, msg := post(t, base+"/objects/kustomization/"+f.ns+"/app/reconcile", map[string]string{"X-Weir-Token": s.token})
	if code != http.StatusForbidden || msg != readOnlyReason {
		t.Errorf("a read-only UI's reconcile: %d %s", code, msg)
	}
	if getKustomization(t, f.ns, "app").Annotations[meta.ReconcileRequestAnnotation] != "" {
		t.Error("a read-only UI patched the object")
	}
	if !strings.Contains(log.String(), "reconcile Kustomization "+f.ns+"/app: 403") {
		t.Errorf("the refused action is not logged:\n%s", log.String())
	}
}

// configMaps creates the ConfigMaps cm-0000 … in ns.
func configMaps(t testing.TB, ns string, n int) {
	t.Helper()
	for i := range n {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("cm-%04d", i)}}
		if err := env.Client.Create(context.Background(), cm); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInventoryWithoutTheRightToList(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := range 12 {
		ids = append(ids, fmt.Sprintf("%s_cm-%04d__ConfigMap", f.ns, i))
	}
	create(t, kustomization(f.ns, "twelve", readyTrue("applied"), ids...))
	configMaps(t, f.ns, 10)
	// dave may read ConfigMaps one by one, not list them: the UI reads them one by one.
	user := "dave-" + f.ns
	grant(t, user, f.ns, readOnly[0], rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}})
	_, base := serve(t, impersonating(user), f.ns)
	_, body := fetch(t, base+"/objects/kustomization/"+f.ns+"/twelve")
	if current, missing := strings.Count(body, `class="inv h-current"`), strings.Count(body, `class="inv h-notfound"`); current != 10 || missing != 2 {
		t.Errorf("health: %d Current, %d NotFound; want 10 and 2", current, missing)
	}
}

func TestTrace(t *testing.T) {
	f := newFixture(t)
	_, base := serve(t, env.Config)
	trace := func(object, ns string) string {
		_, body := fetch(t, base+"/trace?object="+object+"&namespace="+ns)
		return body
	}
	// A ConfigMap applied by child, itself applied by app, from the GitRepository repo.
	body := trace("cm/child-config", f.ns)
	if !strings.Contains(body, `id="trace-chain"`) {
		t.Fatalf("no trace of child-config:\n%s", body)
	}
	chain := body[strings.Index(body, `id="trace-chain"`):]
	at := func(s string) int { return strings.Index(chain, s) }
	repo, app, child, self := at("/objects/gitrepository/"+f.ns+"/repo"), at(`data-key="kustomization/`+f.ns+`/app"`), at(`data-key="kustomization/`+f.ns+`/child"`), at("ConfigMap/"+f.ns+"/child-config")
	if repo < 0 || app < repo || child < app || self < child || !strings.Contains(chain, "https://github.com/weir-dev/demo/commit/"+f.commit) {
		t.Errorf("the trace of child-config is not repo → app → child → it (%d %d %d %d):\n%s", repo, app, child, self, chain)
	}
	for _, tc := range []struct{ object, ns, want string }{
		{"configmaps/app-config", f.ns, `data-key="kustomization/` + f.ns + `/app"`},
		{"kustomization/broken", f.ns, "is not managed by Weir"},
		{"deployment/web", f.ns, "not found"},
		{"widget/x", f.ns, "unknown kind &#34;widget&#34;"},
		{"secret/app-secret", f.ns, "the UI never reads Secrets"},
		{"configmap/app-config", "", "lives in a namespace"},
		{"app-config", f.ns, "want &lt;kind&gt;/&lt;name&gt;"},
	} {
		if body := trace(tc.object, tc.ns); !strings.Contains(body, tc.want) {
			t.Errorf("trace %s in %q: no %q in the page", tc.object, tc.ns, tc.want)
		}
	}
	if body := trace("secret/app-secret", f.ns); strings.Contains(body, "hunter2") {
		t.Fatal("the trace page shows Secret data")
	}
}
