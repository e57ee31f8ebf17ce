package ui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/objects"
	"weir.dev/pkg/testenv"
)

// env is the package's control plane with Weir's CRDs. Only the browser test's reconcile
// runs a controller, limited by a label to its own object.
var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// fixture is a namespace holding Weir objects in every state.
type fixture struct {
	ns string
	// commit is the GitRepository's revision's commit.
	commit string
}

// create creates obj, then sets its status to the status obj was given, as a controller would.
func create(t testing.TB, obj client.Object) { env.CreateWithStatus(t, obj) }

func cond(typ string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(time.Now().Add(-time.Minute))}
}

func readyTrue(msg string) []metav1.Condition {
	return []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, msg)}
}

func kustomization(ns, name string, conds []metav1.Condition, inventory ...string) *kustomizev1.Kustomization {
	k := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
			Interval:  metav1.Duration{Duration: time.Minute},
			Path:      "./deploy/" + name,
			Prune:     true,
		},
	}
	k.Status.Conditions = conds
	k.Status.ObservedGeneration = 1
	if len(inventory) > 0 {
		k.Status.Inventory = &meta.ResourceInventory{}
		for _, id := range inventory {
			version := "v1"
			if strings.HasSuffix(id, "_Kustomization") {
				version = "v1"
			}
			k.Status.Inventory.Entries = append(k.Status.Inventory.Entries, meta.ResourceRef{ID: id, Version: version})
		}
	}
	return k
}

// newFixture creates a namespace with:
//   - GitRepository repo, Ready, at a GitHub URL;
//   - Kustomization app, Ready, whose inventory holds a ConfigMap, a Secret, a missing
//     Deployment and the Kustomization child, whose own inventory holds a ConfigMap;
//   - Kustomization broken, failing with BuildFailed and a Warning event;
//   - Kustomization waiting, progressing; Kustomization paused, suspended;
//   - HelmRelease web, failing, from the HelmChart chart of the HelmRepository charts.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	ns := env.NamespaceNamed(t, "shop")
	f := &fixture{ns: ns, commit: "0123456789abcdef0123456789abcdef01234567"}
	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "repo"},
		Spec:       sourcev1.GitRepositorySpec{URL: "https://github.com/weir-dev/demo.git", Interval: metav1.Duration{Duration: time.Minute}},
	}
	repo.Status.Conditions = readyTrue("stored artifact for revision 'main@sha1:" + f.commit + "'")
	repo.Status.ObservedGeneration = 1
	repo.Status.Artifact = &meta.Artifact{Path: "a.tar.gz", URL: "http://x/a.tar.gz", Revision: "main@sha1:" + f.commit, LastUpdateTime: metav1.Now()}
	create(t, repo)

	// Each ConfigMap is labelled as applied by its Kustomization, as kustomize-controller does.
	for name, owner := range map[string]string{"app-config": "app", "child-config": "child"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: appliedBy(ns, owner)}, Data: map[string]string{"k": "v"}}
		if err := env.Client.Create(context.Background(), cm); err != nil {
			t.Fatal(err)
		}
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-secret"}, StringData: map[string]string{"password": "hunter2-do-not-show"}}
	if err := env.Client.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}

	app := kustomization(ns, "app", readyTrue("applied revision main@sha1:"+f.commit),
		ns+"_app-config__ConfigMap", ns+"_app-secret__Secret", ns+"_web_apps_Deployment", ns+"_child_kustomize.weir.dev_Kustomization")
	app.Status.LastAppliedRevision = "main@sha1:" + f.commit
	app.Status.Drift = []kustomizev1.DriftedObject{{ID: ns + "_app-config__ConfigMap", Fields: []string{".data.k"}, Manager: "kubectl-edit", DetectedAt: metav1.Now()}}
	app.Status.History = []kustomizev1.ReconcileSnapshot{{Digest: "sha256:1234", FirstReconciled: metav1.Now(), LastReconciled: metav1.Now(), LastReconciledDuration: metav1.Duration{Duration: 2 * time.Second}, LastReconciledStatus: "ReconciliationSucceeded", TotalReconciliations: 3, Metadata: map[string]string{"revision": "main@sha1:" + f.commit}}}
	create(t, app)
	child := kustomization(ns, "child", readyTrue("applied"), ns+"_child-config__ConfigMap")
	child.Labels = appliedBy(ns, "app")
	create(t, child)

	broken := kustomization(ns, "broken", []metav1.Condition{
		cond(meta.ReadyCondition, metav1.ConditionFalse, "BuildFailed", "deploy/broken/kustomization.yaml: accumulating resources: 'missing.yaml' not found"),
		cond(meta.StalledCondition, metav1.ConditionTrue, "BuildFailed", "deploy/broken/kustomization.yaml: accumulating resources"),
	})
	create(t, broken)
	event(t, ns, "Kustomization", "broken", corev1.EventTypeWarning, "BuildFailed", "deploy/broken/kustomization.yaml: accumulating resources: 'missing.yaml' not found")

	create(t, kustomization(ns, "waiting", []metav1.Condition{
		cond(meta.ReadyCondition, metav1.ConditionUnknown, meta.ProgressingReason, "reconciliation in progress"),
		cond(meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason, "reconciliation in progress"),
	}))
	paused := kustomization(ns, "paused", readyTrue("applied"))
	paused.Spec.Suspend = true
	create(t, paused)

	charts := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "charts"},
		Spec:       sourcev1.HelmRepositorySpec{URL: "https://charts.example.com", Interval: &metav1.Duration{Duration: time.Minute}},
	}
	charts.Status.Conditions = readyTrue("stored artifact: revision 'sha256:5d4c'")
	charts.Status.ObservedGeneration = 1
	create(t, charts)
	chart := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "chart"},
		Spec: sourcev1.HelmChartSpec{Chart: "web", Version: "1.x", Interval: metav1.Duration{Duration: time.Minute},
			SourceRef: sourcev1.HelmChartSourceReference{Kind: "HelmRepository", Name: "charts"}},
	}
	chart.Status.Conditions = readyTrue("pulled 'web' chart with version '1.2.3'")
	chart.Status.ObservedGeneration = 1
	chart.Status.Artifact = &meta.Artifact{Path: "c.tgz", URL: "http://x/c.tgz", Revision: "1.2.3", LastUpdateTime: metav1.Now()}
	create(t, chart)

	web := &helmv1.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: helmv1.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Minute},
			ChartRef: &helmv1.CrossNamespaceSourceReference{Kind: "HelmChart", Name: "chart"},
		},
	}
	web.Status.Conditions = []metav1.Condition{cond(meta.ReadyCondition, metav1.ConditionFalse, "InstallFailed", "Helm install failed: values.yaml: replicas must be a number")}
	web.Status.ObservedGeneration = 1
	create(t, web)
	return f
}

// appliedBy are the labels kustomize-controller puts on what the Kustomization ns/name applies.
func appliedBy(ns, name string) map[string]string {
	return map[string]string{objects.KustomizeNameLabel: name, objects.KustomizeNamespaceLabel: ns}
}

// event records an Event about a Weir object, as its controller would.
func event(t testing.TB, ns, kind, name, typ, reason, message string) {
	t.Helper()
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, GenerateName: name + "."},
		InvolvedObject: corev1.ObjectReference{APIVersion: kustomizev1.GroupVersion.String(), Kind: kind, Namespace: ns, Name: name},
		Type:           typ, Reason: reason, Message: message, Count: 1,
		FirstTimestamp: now, LastTimestamp: now, Source: corev1.EventSource{Component: "kustomize-controller"},
	}
	if err := env.Client.Create(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

// serve starts a UI server for cfg on a free loopback port and returns its URL, without the
// trailing slash.
func serve(t testing.TB, cfg *rest.Config, namespaces ...string) (*Server, string) {
	t.Helper()
	return serveWith(t, Options{Config: cfg, Namespaces: namespaces})
}

// serveWith is serve with every option.
func serveWith(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts.Context, opts.StartTimeout = "test", time.Minute
	s, err := New(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	l, err := s.Listen(0)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return s, strings.TrimSuffix(s.URL(), "/")
}

// fetch GETs url and returns the status and body.
func fetch(t testing.TB, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// eventually retries f for up to 30 seconds.
func eventually(t testing.TB, f func() error) { testenv.Eventually(t, 30*time.Second, f) }

// impersonating returns env's config acting as user, a member of no group but
// system:authenticated.
func impersonating(user string) *rest.Config {
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	return cfg
}

// grant binds user to a role with rules in namespace ns ("" for a ClusterRole and binding).
func grant(t testing.TB, user, ns string, rules ...rbacv1.PolicyRule) {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("ui-test-%s-%d", user, time.Now().UnixNano())
	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: user, APIGroup: rbacv1.GroupName}}
	var objs []client.Object
	if ns == "" {
		objs = []client.Object{
			&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules},
			&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, Subjects: subjects, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}},
		}
	} else {
		objs = []client.Object{
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Subjects: subjects, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}},
		}
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, o := range objs {
			_ = env.Client.Delete(context.Background(), o)
		}
	})
}

// readOnly lets a user read Weir objects, events and everything but Secrets.
var readOnly = []rbacv1.PolicyRule{
	{APIGroups: []string{"source.weir.dev", "kustomize.weir.dev", "helm.weir.dev", "notification.weir.dev", "sets.weir.dev"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{""}, Resources: []string{"events", "configmaps"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}},
}
