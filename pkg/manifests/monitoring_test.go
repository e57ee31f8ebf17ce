package manifests_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"weir.dev/pkg/testenv"
)

// buildWithMonitoring builds deploy/ with the monitoring component, as an overlay does.
func buildWithMonitoring(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "deploy"), os.DirFS(filepath.Join(env.RepoRoot, "deploy"))); err != nil {
		t.Fatal(err)
	}
	overlay := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../deploy]\ncomponents: [../deploy/components/monitoring]\n"
	if err := os.MkdirAll(filepath.Join(dir, "overlay"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "overlay", "kustomization.yaml"), []byte(overlay), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(dir, "overlay"))
	if err != nil {
		t.Fatalf("kustomize build of deploy/ with components/monitoring: %v", err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range m.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
	return objs
}

// TestBaseNeedsNoPrometheusOperator: the base holds none of the Prometheus Operator's kinds, so
// a cluster without its CRDs applies it cleanly; the monitoring component adds them.
func TestBaseNeedsNoPrometheusOperator(t *testing.T) {
	for _, u := range buildDeploy(t) {
		if strings.HasPrefix(u.GetAPIVersion(), "monitoring.coreos.com/") {
			t.Errorf("the base holds %s %s, which needs the Prometheus Operator's CRDs", u.GetKind(), u.GetName())
		}
	}
}

// TestMonitoringComponent: the PodMonitor selects the pods of all four controllers on a port
// each of them declares; the alert rules and the dashboards ConfigMap are in the controllers'
// namespace; every rule has an expression and a duration.
func TestMonitoringComponent(t *testing.T) {
	objs := buildWithMonitoring(t)
	find := func(kind, name string) *unstructured.Unstructured {
		for _, u := range objs {
			if u.GetKind() == kind && u.GetName() == name {
				if u.GetNamespace() != deployNamespace {
					t.Errorf("%s %s is in namespace %q, want %s", kind, name, u.GetNamespace(), deployNamespace)
				}
				return u
			}
		}
		t.Fatalf("no %s %s in the build", kind, name)
		return nil
	}
	pm := find("PodMonitor", "weir-controllers")
	var spec struct {
		Selector            metav1.LabelSelector `json:"selector"`
		PodMetricsEndpoints []struct {
			Port        string `json:"port"`
			Path        string `json:"path"`
			HonorLabels bool   `json:"honorLabels"`
		} `json:"podMetricsEndpoints"`
	}
	fromUnstructured(t, pm.Object["spec"], &spec)
	sel, err := metav1.LabelSelectorAsSelector(&spec.Selector)
	if err != nil || sel.Empty() {
		t.Fatalf("PodMonitor selector %+v: %v", spec.Selector, err)
	}
	if len(spec.PodMetricsEndpoints) != 1 || !spec.PodMetricsEndpoints[0].HonorLabels {
		t.Fatalf("PodMonitor endpoints %+v: want one, honouring the series' namespace label", spec.PodMetricsEndpoints)
	}
	port := spec.PodMetricsEndpoints[0].Port
	deployments := deployTyped[appsv1.Deployment](t, objs, "Deployment")
	for _, name := range deployControllers {
		d := deployments[name]
		if d == nil {
			t.Fatalf("no Deployment %s", name)
		}
		if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("the PodMonitor does not select the pods of %s (labels %v)", name, d.Spec.Template.Labels)
		}
		if !slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Ports, func(p corev1.ContainerPort) bool { return p.Name == port && p.ContainerPort == 8080 }) {
			t.Errorf("%s declares no port %s on 8080, --metrics-addr", name, port)
		}
	}

	for _, r := range ruleExprs(t, find("PrometheusRule", "weir-alerts")) {
		if r.Alert == "" || r.Expr == "" || r.For == "" {
			t.Errorf("rule %+v: an alert needs a name, an expression and a duration", r)
		}
	}
	find("ConfigMap", "weir-grafana-dashboards")
	cm := deployTyped[corev1.ConfigMap](t, objs, "ConfigMap")["weir-grafana-dashboards"]
	if cm.Labels["grafana_dashboard"] != "1" || len(cm.Data) != 2 {
		t.Fatalf("dashboards ConfigMap: %+v", cm)
	}
}

type alertRule struct {
	Alert string `json:"alert"`
	Expr  string `json:"expr"`
	For   string `json:"for"`
}

func ruleExprs(t *testing.T, u *unstructured.Unstructured) []alertRule {
	t.Helper()
	var spec struct {
		Groups []struct {
			Name  string      `json:"name"`
			Rules []alertRule `json:"rules"`
		} `json:"groups"`
	}
	fromUnstructured(t, u.Object["spec"], &spec)
	var out []alertRule
	for _, g := range spec.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatalf("PrometheusRule %s has no rule", u.GetName())
	}
	return out
}

func fromUnstructured(t *testing.T, in any, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

// dashboard is the part of Grafana's dashboard JSON model the test checks.
type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Title      string `json:"title"`
		Type       string `json:"type"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		GridPos struct{ H, W, X, Y int } `json:"gridPos"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestDashboardsAndRulesUseRealMetrics: each dashboard is a valid Grafana JSON model (a uid,
// a title, a datasource variable every panel uses, panels with unique ids inside the 24-column
// grid, each with at least one query), and every metric a dashboard query or an alert rule
// names is one a controller really exports: it is in the names a real scrape of the
// controllers recorded (pkg/manifests/testdata/metrics, written and checked by each
// controller's TestMetricsScrape).
func TestDashboardsAndRulesUseRealMetrics(t *testing.T) {
	exported := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(env.RepoRoot, "pkg", "manifests", "testdata", "metrics", "*.txt"))
	if len(files) != len(deployControllers) {
		t.Fatalf("recorded scrapes %v, want one per controller", files)
	}
	for _, f := range files {
		names, err := testenv.ReadMetricNames(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			exported[n] = true
		}
	}
	check := func(where, expr string) {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: no metric in %q", where, expr)
		}
		for _, n := range names {
			if !exported[n] {
				t.Errorf("%s: %s is exported by no controller (expression %q)", where, n, expr)
			}
		}
	}

	dir := filepath.Join(env.RepoRoot, "deploy", "components", "monitoring", "dashboards")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(paths) != 2 {
		t.Fatalf("dashboards %v, want the control-plane and fleet ones", paths)
	}
	uids := map[string]bool{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		dec := json.NewDecoder(strings.NewReader(string(b)))
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		name := filepath.Base(p)
		if d.UID == "" || uids[d.UID] || d.Title == "" || d.SchemaVersion < 30 || len(d.Panels) == 0 {
			t.Errorf("%s: uid %q (unique), title %q, schemaVersion %d, %d panels", name, d.UID, d.Title, d.SchemaVersion, len(d.Panels))
		}
		uids[d.UID] = true
		if !slices.ContainsFunc(d.Templating.List, func(v struct {
			Name string `json:"name"`
			Type string `json:"type"`
		}) bool {
			return v.Name == "datasource" && v.Type == "datasource"
		}) {
			t.Errorf("%s: no datasource variable", name)
		}
		ids := map[int]bool{}
		for _, pn := range d.Panels {
			where := name + " panel " + pn.Title
			if pn.ID == 0 || ids[pn.ID] || pn.Title == "" || pn.Type == "" {
				t.Errorf("%s: id %d (unique, not 0), type %q", where, pn.ID, pn.Type)
			}
			ids[pn.ID] = true
			if g := pn.GridPos; g.W < 1 || g.H < 1 || g.X < 0 || g.X+g.W > 24 || g.Y < 0 {
				t.Errorf("%s: gridPos %+v outside the 24-column grid", where, g)
			}
			if pn.Datasource.UID != "${datasource}" {
				t.Errorf("%s: datasource %q, want ${datasource}", where, pn.Datasource.UID)
			}
			if len(pn.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, q := range pn.Targets {
				if q.RefID == "" {
					t.Errorf("%s: a query without refId", where)
				}
				check(where, q.Expr)
			}
		}
	}
	for _, u := range buildWithMonitoring(t) {
		if u.GetKind() == "PrometheusRule" {
			for _, r := range ruleExprs(t, u) {
				check("rule "+r.Alert, r.Expr)
			}
		}
	}
}

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	// by (...), without (...), on (...), ignoring (...), group_left (...), group_right (...)
	promLabelLists = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent      = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords   = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true}
)

// metricNames returns the metric names a PromQL expression selects: identifiers outside
// strings, label matchers, ranges and label lists, that are not functions or keywords.
func metricNames(expr string) []string {
	e := promStrings.ReplaceAllString(expr, `""`)
	e = promMatchers.ReplaceAllString(e, " ")
	e = promRanges.ReplaceAllString(e, " ")
	e = promLabelLists.ReplaceAllString(e, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(e, -1) {
		id := e[loc[0]:loc[1]]
		if promKeywords[strings.ToLower(id)] || strings.HasPrefix(strings.TrimSpace(e[loc[1]:]), "(") {
			continue
		}
		if loc[0] > 0 && (e[loc[0]-1] >= '0' && e[loc[0]-1] <= '9' || e[loc[0]-1] == '.') {
			continue // the exponent or unit of a number, e.g. 1e3
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// TestMetricNames pins the PromQL scan the dashboard test relies on.
func TestMetricNames(t *testing.T) {
	for expr, want := range map[string]string{
		`sum by (kind, le) (rate(weir_reconcile_duration_seconds_bucket{namespace=~"$namespace"}[$__rate_interval]))`:                               "weir_reconcile_duration_seconds_bucket",
		`max by (kind, name, namespace) (weir_reconcile_condition{type="Ready"}) == 1 unless on (kind, name, namespace) (weir_suspend_status == 1)`: "weir_reconcile_condition weir_suspend_status",
		`histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m]))) > 1e3`:                                                                          "a_bucket",
		`topk(20, x{a="b{c}"})`: "x",
	} {
		if got := strings.Join(metricNames(expr), " "); got != want {
			t.Errorf("metricNames(%q) = %q, want %q", expr, got, want)
		}
	}
}
