package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/kube"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
)

// The release's Secret values; no output may ever show them.
const (
	helmSecretOld = "old-s3cret-value"
	helmSecretNew = "new-s3cret-value"
)

// demoChart writes a chart rendering a ConfigMap (color from values) and a Secret (password
// from values), plus extra templates, and returns its directory.
func demoChart(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	files := map[string]string{
		"Chart.yaml":            "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
		"values.yaml":           "color: red\npassword: unset\n",
		"templates/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  color: {{ .Values.color | quote }}\n",
		"templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-creds\nstringData:\n  password: {{ .Values.password | quote }}\n",
	}
	for name, content := range extra {
		files[name] = content
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if content == "" {
			continue // a file the caller removes
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// serveChart archives the chart dir as source-controller stores a chart artifact and serves
// it on 127.0.0.1; it returns the artifact.
func serveChart(t *testing.T, dir string) *meta.Artifact {
	t.Helper()
	var buf bytes.Buffer
	if _, err := artifact.Archive(&buf, dir, artifact.ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}
	digest, size, err := artifact.Digest(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(buf.Bytes()) }))
	t.Cleanup(srv.Close)
	return &meta.Artifact{Path: "demo.tar.gz", URL: srv.URL + "/demo.tar.gz", Revision: "1.0.0", Digest: digest, Size: &size, LastUpdateTime: metav1.Now()}
}

// helmChartWith returns a Ready HelmChart whose artifact is art (none when nil).
func helmChartWith(ns, name string, art *meta.Artifact) *sourcev1.HelmChart {
	hc := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.HelmChartSpec{
			Chart: "demo", Version: "*", Interval: metav1.Duration{Duration: time.Minute},
			SourceRef: sourcev1.HelmChartSourceReference{Kind: "HelmRepository", Name: "charts"},
		},
	}
	hc.Status.ObservedGeneration = 1
	hc.Status.Conditions = ready(metav1.ConditionTrue, meta.SucceededReason, "pulled demo@1.0.0")
	hc.Status.Artifact = art
	return hc
}

// installRelease installs chart dir with vals as helm-controller does: Helm's install action,
// writing as the field manager helm-controller, release records in ns.
func installRelease(t *testing.T, ns, name, dir string, vals map[string]any) {
	t.Helper()
	kube.ManagedFieldsManager = "helm-controller"
	settings := cli.New()
	settings.KubeConfig = env.KubeconfigPath
	settings.SetNamespace(ns)
	cfg := &action.Configuration{}
	if err := cfg.Init(settings.RESTClientGetter(), ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	ch, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace = name, ns
	if _, err := in.RunWithContext(context.Background(), ch, vals); err != nil {
		t.Fatal(err)
	}
}

// helmSetup creates, in a new namespace, the HelmChart demo serving chart dir, the Secret
// vals holding the release's password, and the HelmRelease app (color blue, the password from
// vals), and installs its release as helm-controller would. It returns the namespace.
func helmSetup(t *testing.T, dir string) string {
	t.Helper()
	ctx := context.Background()
	ns := env.Namespace(t)
	create(t, helmChartWith(ns, "demo", serveChart(t, dir)))
	vals := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vals"},
		StringData: map[string]string{"values.yaml": "password: " + helmSecretOld + "\n"}}
	if err := env.Client.Create(ctx, vals); err != nil {
		t.Fatal(err)
	}
	hr := helmRelease(ns, "app", "demo", ready(metav1.ConditionTrue, "InstallSucceeded", "Helm install succeeded"))
	hr.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(`{"color":"blue"}`)}
	hr.Spec.ValuesFrom = []helmv1.ValuesReference{{Kind: "Secret", Name: "vals"}}
	create(t, hr)
	installRelease(t, ns, "app", dir, map[string]any{"color": "blue", "password": helmSecretOld})
	return ns
}

// updateHelmRelease applies change to the HelmRelease app of ns.
func updateHelmRelease(t *testing.T, ns string, change func(*helmv1.HelmRelease)) {
	t.Helper()
	hr := &helmv1.HelmRelease{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, hr); err != nil {
		t.Fatal(err)
	}
	change(hr)
	if err := env.Client.Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
}

// noSecrets fails when out shows a Secret value of the release, in clear or base64.
func noSecrets(t *testing.T, what, out string) {
	t.Helper()
	for _, v := range []string{helmSecretOld, helmSecretNew} {
		if strings.Contains(out, v) || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(v))[:12]) {
			t.Errorf("%s shows a Secret value:\n%s", what, out)
		}
	}
}

// TestDiffHelmRelease: with nothing changed the diff is empty (exit 0); after a change of
// spec.values and of the valuesFrom Secret it shows the changed field and the Secret's change
// masked (exit 1); --values and --chart-path preview a pull request's values and chart.
func TestDiffHelmRelease(t *testing.T) {
	ctx := context.Background()
	dir := demoChart(t, nil)
	ns := helmSetup(t, dir)

	code, out, errOut := weir(t, "diff", "helmrelease", "app", "-n", ns)
	if code != 0 {
		t.Fatalf("diff of an unchanged release: code %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"demo/templates/config.yaml: ConfigMap/" + ns + "/app-settings unchanged", "Secret/" + ns + "/app-creds unchanged"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}

	updateHelmRelease(t, ns, func(hr *helmv1.HelmRelease) {
		hr.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(`{"color":"green"}`)}
		hr.Spec.CommonMetadata = &meta.CommonMetadata{Labels: map[string]string{"team": "web"}} // a post-renderer
	})
	vals := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "vals"}, vals); err != nil {
		t.Fatal(err)
	}
	vals.Data = map[string][]byte{"values.yaml": []byte("password: " + helmSecretNew + "\n")}
	if err := env.Client.Update(ctx, vals); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = weir(t, "diff", "hr", "app", "-n", ns)
	if code != 1 {
		t.Fatalf("diff of a changed release: code %d, want 1; stderr %q\n%s", code, errOut, out)
	}
	t.Logf("weir diff hr app:\n%s", out)
	for _, want := range []string{
		"ConfigMap/" + ns + "/app-settings changed", "-  color: blue", "+  color: green", "+    team: web",
		"Secret/" + ns + "/app-creds changed", "*** (before)", "*** (after)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	noSecrets(t, "diff", out)

	// A pull request's HelmRelease: its spec replaces the cluster's.
	file := filepath.Join(t.TempDir(), "app.yaml")
	manifest := "apiVersion: helm.weir.dev/v1\nkind: HelmRelease\nmetadata:\n  name: app\n  namespace: " + ns + "\n" +
		"spec:\n  interval: 1m\n  chartRef: {kind: HelmChart, name: demo}\n  values: {color: purple}\n  valuesFrom: [{kind: Secret, name: vals}]\n"
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = weir(t, "diff", "hr", "app", "-n", ns, "--helmrelease-file", file)
	if code != 1 || !strings.Contains(out, "+  color: purple") || strings.Contains(out, "team: web") {
		t.Errorf("diff with --helmrelease-file: code %d, stderr %q, want 1 and color purple without the cluster's commonMetadata\n%s", code, errOut, out)
	}
	noSecrets(t, "diff with --helmrelease-file", out)

	// A pull request's values file, and its chart without the Secret (a deletion).
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte("color: yellow\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pr := demoChart(t, map[string]string{"templates/secret.yaml": ""})
	code, out, errOut = weir(t, "diff", "hr", "app", "-n", ns, "--values", values, "--chart-path", pr)
	if code != 1 {
		t.Fatalf("diff with --values and --chart-path: code %d, want 1; stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"+  color: yellow", "Secret/" + ns + "/app-creds deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	noSecrets(t, "diff with --chart-path", out)
}

// TestDiffHelmReleaseErrors: a missing valuesFrom Secret, a chart source without an artifact
// and a template that fails each end the diff with exit code 2 and a message naming the
// HelmRelease and the field or file at fault.
func TestDiffHelmReleaseErrors(t *testing.T) {
	dir := demoChart(t, nil)
	ns := helmSetup(t, dir)

	updateHelmRelease(t, ns, func(hr *helmv1.HelmRelease) {
		hr.Spec.ValuesFrom = append(hr.Spec.ValuesFrom, helmv1.ValuesReference{Kind: "Secret", Name: "absent"})
	})
	code, out, errOut := weir(t, "diff", "hr", "app", "-n", ns)
	if want := "HelmRelease '" + ns + "/app': spec.valuesFrom[1]: Secret '" + ns + "/absent' not found"; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("missing valuesFrom Secret: code %d, stderr %q, want 2 and %q\n%s", code, errOut, want, out)
	}

	updateHelmRelease(t, ns, func(hr *helmv1.HelmRelease) { hr.Spec.ValuesFrom = hr.Spec.ValuesFrom[:1] })
	broken := demoChart(t, map[string]string{"templates/broken.yaml": "{{ .Values.nope.deeper }}\n"})
	code, _, errOut = weir(t, "diff", "hr", "app", "-n", ns, "--chart-path", broken)
	if code != 2 || !strings.Contains(errOut, "HelmRelease '"+ns+"/app': ") || !strings.Contains(errOut, "demo/templates/broken.yaml") {
		t.Errorf("render error: code %d, stderr %q", code, errOut)
	}
	t.Logf("render error: %s", errOut)

	updateHelmRelease(t, ns, func(hr *helmv1.HelmRelease) {
		hr.Spec.ChartRef = nil
		hr.Spec.Chart = &helmv1.HelmChartTemplate{Spec: helmv1.HelmChartTemplateSpec{
			Chart: "demo", SourceRef: helmv1.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "charts"}}}
	})
	code, _, errOut = weir(t, "diff", "hr", "app", "-n", ns)
	if want := "HelmRelease '" + ns + "/app': spec.chart: HelmChart '" + ns + "/" + ns + "-app' not found"; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("spec.chart without its HelmChart: code %d, stderr %q, want 2 and %q", code, errOut, want)
	}

	create(t, helmChartWith(ns, "empty", nil))
	updateHelmRelease(t, ns, func(hr *helmv1.HelmRelease) {
		hr.Spec.Chart = nil
		hr.Spec.ChartRef = &helmv1.CrossNamespaceSourceReference{Kind: "HelmChart", Name: "empty"}
	})
	code, _, errOut = weir(t, "diff", "hr", "app", "-n", ns)
	if want := "HelmRelease '" + ns + "/app': spec.chartRef: HelmChart '" + ns + "/empty' has no chart artifact"; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("missing artifact: code %d, stderr %q, want 2 and %q", code, errOut, want)
	}
}

// TestPlanHelmRelease: `weir plan hr` prints the pending plan of an approval-gated HelmRelease
// and then the full diff of its chart and values against the live release, Secrets masked.
func TestPlanHelmRelease(t *testing.T) {
	dir := demoChart(t, nil)
	ns := helmSetup(t, dir)
	hr := &helmv1.HelmRelease{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, hr); err != nil {
		t.Fatal(err)
	}
	hr.Spec.Approval = meta.ApprovalManual
	hr.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(`{"color":"green","password":"` + helmSecretNew + `"}`)}
	if err := env.Client.Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	msg := "revision 1.0.0: 0 to create, 2 to change, 0 to delete"
	hr.Status.Conditions = append(ready(metav1.ConditionFalse, meta.ApprovalRequiredReason, msg), metav1.Condition{
		Type: meta.ApprovalRequiredCondition, Status: metav1.ConditionTrue, Reason: meta.ApprovalRequiredReason,
		Message: msg, ObservedGeneration: 2, LastTransitionTime: metav1.Now()})
	hr.Status.Plan = &meta.Plan{Revision: "1.0.0", Digest: "sha256:0", Change: 2, ComputedAt: metav1.Now(), Objects: []meta.PlanObject{
		{ID: ns + "_app-settings__ConfigMap", Action: meta.PlanChange}, {ID: ns + "_app-creds__Secret", Action: meta.PlanChange}}}
	if err := env.Client.Status().Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := weir(t, "plan", "hr", "app", "-n", ns)
	if code != 0 {
		t.Fatalf("plan: code %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"HelmRelease " + ns + "/app: revision 1.0.0: 0 to create, 2 to change, 0 to delete",
		"waiting for approval: weir approve helmrelease app --revision 1.0.0",
		"change " + ns + "_app-settings__ConfigMap",
		"ConfigMap/" + ns + "/app-settings changed", "+  color: green",
		"Secret/" + ns + "/app-creds changed", "*** (before)", "*** (after)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	noSecrets(t, "plan", out)
}

// TestDiffHelmReleaseWithoutStorageAccess: a reviewer who may read and dry-run the release's
// objects but not list Secrets (Helm's release records) gets the diff, with the objects of
// status.inventory the chart no longer renders shown as deleted.
func TestDiffHelmReleaseWithoutStorageAccess(t *testing.T) {
	ctx := context.Background()
	ns := helmSetup(t, demoChart(t, nil))
	old := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-old"}, Data: map[string]string{"k": "v"}}
	if err := env.Client.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	hr := &helmv1.HelmRelease{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, hr); err != nil {
		t.Fatal(err)
	}
	hr.Status.Inventory = &meta.ResourceInventory{Entries: []meta.ResourceRef{
		{ID: ns + "_app-creds__Secret", Version: "v1"}, {ID: ns + "_app-old__ConfigMap", Version: "v1"}, {ID: ns + "_app-settings__ConfigMap", Version: "v1"}}}
	if err := env.Client.Status().Update(ctx, hr); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "reviewer"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{helmv1.GroupVersion.Group}, Resources: []string{"helmreleases"}, Verbs: []string{"get"}},
		{APIGroups: []string{sourcev1.GroupVersion.Group}, Resources: []string{"helmcharts"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps", "secrets"}, Verbs: []string{"get", "patch"}},
	}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "reviewer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reviewer"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "reviewer"}}}
	for _, obj := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}

	code, out, errOut := weir(t, "--as", "reviewer", "diff", "hr", "app", "-n", ns)
	if code != 1 {
		t.Fatalf("diff as reviewer: code %d, want 1; stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"ConfigMap/" + ns + "/app-settings unchanged", "Secret/" + ns + "/app-creds unchanged", "ConfigMap/" + ns + "/app-old deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	noSecrets(t, "diff as reviewer", out)
}
